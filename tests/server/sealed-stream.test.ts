import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { openingStream, sealChunk, sealingStream } from '../../server/domain/sealed-stream.js'

/** Streaming encryption of uploads at rest: what is sealed opens to the same bytes, and nothing else opens. */
const key = randomBytes(32)

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of stream as AsyncIterable<Buffer>) parts.push(c)
  return Buffer.concat(parts)
}
const seal = (plain: Buffer, id = 'job-1') => collect(Readable.from([plain.subarray(0, 1000), plain.subarray(1000)]).pipe(sealingStream(key, id)))
const open = (sealed: Buffer, id = 'job-1', k = key, requireEnd = true) => collect(Readable.from([sealed]).pipe(openingStream(k, id, { requireEnd })))

describe('sealed streams', () => {
  it('opens to the same bytes for an empty file, one short chunk and many chunks of any split', async () => {
    for (const size of [0, 10, 64 * 1024, 64 * 1024 + 1, 300_000]) {
      const plain = randomBytes(size)
      const sealed = await seal(plain)
      expect(sealed.includes(plain.subarray(0, Math.min(size, 64)))).toBe(size === 0)
      expect((await open(sealed)).equals(plain), `size ${size}`).toBe(true)
    }
  })

  it('refuses another key, another file\'s id, a changed byte, chunks swapped and a file cut short', async () => {
    const plain = randomBytes(200_000)
    const sealed = await seal(plain)
    await expect(open(sealed, 'job-1', randomBytes(32))).rejects.toThrow()
    await expect(open(sealed, 'job-2')).rejects.toThrow()
    const changed = Buffer.from(sealed)
    changed[5000]! ^= 1
    await expect(open(changed)).rejects.toThrow()
    const chunk = 33 + 64 * 1024
    const swapped = Buffer.concat([sealed.subarray(chunk, 2 * chunk), sealed.subarray(0, chunk), sealed.subarray(2 * chunk)])
    await expect(open(swapped)).rejects.toThrow()
    await expect(open(sealed.subarray(0, 2 * chunk))).rejects.toThrow(/ends before its last chunk/)
    await expect(open(sealed.subarray(0, chunk + 100))).rejects.toThrow(/ends before its last chunk/)
  })

  it('reads a file appended chunk by chunk without an end mark when told to', async () => {
    const parts = ['line 1\r\n', 'line 2\r\n', 'line 3\r\n'].map((s, i) => sealChunk(key, 'job-1:errors', i, false, Buffer.from(s)))
    expect((await open(Buffer.concat(parts), 'job-1:errors', key, false)).toString()).toBe('line 1\r\nline 2\r\nline 3\r\n')
    await expect(open(Buffer.concat([parts[0]!, parts[2]!]), 'job-1:errors', key, false)).rejects.toThrow()
  })
})
