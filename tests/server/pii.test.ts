import { describe, expect, it } from 'vitest'
import { normaliseIdNumber } from '../../server/domain/id-number.js'
import { decryptIdNumber, encryptIdNumber, encryptIdNumbers } from '../../server/domain/pii.js'
import { testKeys } from '../helpers/keys.js'

describe('encryptIdNumbers', () => {
  // Lengths around the 16-byte blocks, lower case and spaces (normalised), and multi-byte text.
  const ids = [...Array.from({ length: 40 }, (_, i) => 'x1'.repeat(20).slice(0, i + 1)), ' 11010519491231002x ', '身份证号码很长很长很长很长', 'E12345678']

  it('seals every number so that decryptIdNumber gives back its normalised form', () => {
    const sealed = encryptIdNumbers(testKeys, ids)
    expect(sealed).toHaveLength(ids.length)
    for (const [i, id] of ids.entries()) expect(decryptIdNumber(testKeys, sealed[i]!)).toBe(normaliseIdNumber(id))
  })

  it('gives the layout and length of encryptIdNumber, with a nonce of its own for each number', () => {
    const sealed = encryptIdNumbers(testKeys, ['11010519491231002X', '11010519491231002X'])
    expect(sealed.map(b => b.length)).toEqual([encryptIdNumber(testKeys, '11010519491231002X').length, 46])
    expect(sealed[0]!.subarray(0, 12).equals(sealed[1]!.subarray(0, 12))).toBe(false)
  })

  it('is refused by decryption when a byte of the text or the tag is changed', () => {
    const [sealed] = encryptIdNumbers(testKeys, ['11010519491231002X'])
    for (const at of [12, 27, 28, 45]) {
      const bad = Buffer.from(sealed!)
      bad[at]! ^= 1
      expect(() => decryptIdNumber(testKeys, bad)).toThrow()
    }
  })
})
