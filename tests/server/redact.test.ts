import { describe, expect, it } from 'vitest'
import { maskIdNumber } from '../../server/domain/id-number.js'
import { maskFreeText, maskPersonalText, redactPersonal } from '../../server/domain/redact.js'

// An 18-character resident ID, an old 15-digit one and a mobile.
const id18 = '32041119900307123X'
const id15 = '320411900307123'
const mobile = '13912345678'

describe('ID and phone numbers in free text', () => {
  it.each([
    ['an 18-character resident ID inside Chinese text', `房东身份证${id18}住三楼`, `房东身份证${maskIdNumber(id18)}住三楼`],
    ['an ID whose last character is a small x', '证件32041119900307123x', `证件${maskIdNumber('32041119900307123x')}`],
    ['an ID typed in groups of 6, 8 and 4', '身份证 320411 19900307 123X', `身份证 ${maskIdNumber(id18)}`],
    ['an old 15-digit ID', `旧证${id15}。`, `旧证${maskIdNumber(id15)}。`],
    ['a mobile number', `电话${mobile}`, `电话${maskIdNumber(mobile)}`],
    ['a mobile with +86 and spaces', '电话 +86 139 1234 5678', `电话 ${maskIdNumber(mobile)}`],
    ['a mobile with 0086 and dashes', '0086-139-1234-5678', maskIdNumber(mobile)],
    ['a mobile with 86 and no separator', '86 13912345678', maskIdNumber(mobile)],
    ['a mobile in full-width digits', '１３９１２３４５６７８', '１３９****５６７８'],
    ['a mobile between Latin letters', `tel${mobile}ok`, `tel${maskIdNumber(mobile)}ok`],
    ['a landline with its area code', '值班 0519-86123456', `值班 ${maskIdNumber('051986123456')}`],
    ['a landline with the area code in brackets and a space', '(0519)8612 3456', maskIdNumber('051986123456')],
    ['two numbers in one note', `${id18}，${mobile}`, `${maskIdNumber(id18)}，${maskIdNumber(mobile)}`],
  ])('masks %s', (_, text, expected) => {
    expect(maskPersonalText(text)).toBe(expected)
  })

  it.each([
    ['a house number', '新北区三井街道华山路123号5栋'],
    ['a date and a time', '2020-05-01 08:30，整改期限 2020-06-30T00:00:00.000Z'],
    ['a number that is not a mobile (12 followed by 9 digits)', '12912345678'],
    ['a longer run of digits (an account number)', '账号 6222021234567890123'],
    ['a run of 16 digits', '1234567890123456'],
    ['a file checksum', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    // A client's id for an upload or an edit (one random UUID in 200 has such a run), which the audit
    // trail is searched by: masked, the refused photo of tests/server/photos.test.ts was not found.
    ['a UUID whose last group holds a landline\'s shape of digits', 'e28fe1f1-0195-4c59-8747-6c0094762864'],
    ['a UUID whose last group holds a mobile\'s', '0c1d2e3f-4a5b-4c6d-8e7f-a13912345678'],
  ])('leaves %s as typed', (_, text) => {
    expect(maskPersonalText(text)).toBe(text)
  })

  it('masks with the one rule of ID numbers: the first 3 and the last 4 characters kept', () => {
    expect(maskPersonalText(id18)).toBe('320***********123X')
    expect(maskPersonalText(mobile)).toBe('139****5678')
  })

  it('masks every string of a structure, deeply, and nothing else', () => {
    const when = new Date('2020-05-01T00:00:00Z')
    const masked = maskFreeText({ note: `电话${mobile}`, items: [{ text: id18 }, 7], at: when, count: 13912345678, none: null })
    expect(masked).toEqual({ note: `电话${maskIdNumber(mobile)}`, items: [{ text: maskIdNumber(id18) }, 7], at: when, count: 13912345678, none: null })
  })

  it('for the audit trail: personal fields become "(set)", numbers in other text are masked', () => {
    expect(redactPersonal({ ownerName: '张三', ownerPhone: mobile, secondLandlordPhone: null, address: `华山路1号 ${mobile}`, otherText: `身份证${id18}` }))
      .toEqual({ ownerName: '(set)', ownerPhone: '(set)', secondLandlordPhone: null, address: `华山路1号 ${maskIdNumber(mobile)}`, otherText: `身份证${maskIdNumber(id18)}` })
    expect(redactPersonal(`reason: ${mobile}`)).toBe(`reason: ${maskIdNumber(mobile)}`)
  })
})
