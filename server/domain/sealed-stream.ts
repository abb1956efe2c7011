import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'

/**
 * Streaming encryption for large uploads kept on disk while a job reads them (utility readings run
 * to gigabytes, so the whole-file sealing of ledger uploads does not fit). The plain bytes are cut
 * into chunks of 64 KiB, each sealed with AES-256-GCM under its own random IV; the job's id, the
 * chunk's number and whether it is the last are authenticated with it, so chunks cannot be
 * swapped, reordered, moved between files or cut off at the end without the reader noticing.
 *
 * A sealed chunk on disk: length of the ciphertext (4 bytes, big-endian), IV (12), tag (16),
 * flags (1: bit 0 = last chunk), ciphertext.
 */

/** A sealed file that does not open: another key or file, a changed byte, chunks moved or cut off. */
export class SealedFileError extends Error {}

const chunkBytes = 64 * 1024
const headBytes = 4 + 12 + 16 + 1

function aad(id: string, index: number, last: boolean): Buffer {
  const tail = Buffer.alloc(9)
  tail.writeBigUInt64BE(BigInt(index))
  tail[8] = last ? 1 : 0
  return Buffer.concat([Buffer.from(id), tail])
}

/**
 * One sealed chunk: the `index`-th of the file named `id`, marked as the last or not. Files written
 * piece by piece (an error report growing while its job runs) append chunks one at a time.
 */
export function sealChunk(key: Buffer, id: string, index: number, last: boolean, plain: Buffer): Buffer {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(id, index, last))
  const body = Buffer.concat([cipher.update(plain), cipher.final()])
  const head = Buffer.alloc(headBytes)
  head.writeUInt32BE(body.length, 0)
  iv.copy(head, 4)
  cipher.getAuthTag().copy(head, 16)
  head[32] = last ? 1 : 0
  return Buffer.concat([head, body])
}

/** Seals what passes through it; pipe the upload in and the file out. */
export function sealingStream(key: Buffer, id: string): Transform {
  let pending: Buffer = Buffer.alloc(0)
  let index = 0
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
      while (pending.length > chunkBytes) {
        this.push(sealChunk(key, id, index++, false, pending.subarray(0, chunkBytes)))
        pending = pending.subarray(chunkBytes)
      }
      cb()
    },
    flush(cb: TransformCallback) {
      // The last chunk is always written (empty for an empty file): its mark proves the end.
      this.push(sealChunk(key, id, index++, true, pending))
      cb()
    },
  })
}

/**
 * Opens what was sealed under the same key and id; fails on any change to the file. With
 * `requireEnd` (files sealed whole) a file without its last chunk is an error; without it (files
 * appended chunk by chunk) the chunks so far are the file.
 */
export function openingStream(key: Buffer, id: string, { requireEnd = true }: { requireEnd?: boolean } = {}): Transform {
  let pending: Buffer = Buffer.alloc(0)
  let index = 0
  let ended = false
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
      try {
        while (pending.length >= headBytes) {
          const size = pending.readUInt32BE(0)
          if (size > chunkBytes) throw new SealedFileError('a sealed chunk is larger than any the writer makes')
          if (pending.length < headBytes + size) break
          if (ended) throw new SealedFileError('bytes after the last sealed chunk')
          const last = (pending[32]! & 1) === 1
          const decipher = createDecipheriv('aes-256-gcm', key, pending.subarray(4, 16)).setAAD(aad(id, index++, last))
          decipher.setAuthTag(pending.subarray(16, 32))
          const plain = Buffer.concat([decipher.update(pending.subarray(headBytes, headBytes + size)), decipher.final()])
          pending = pending.subarray(headBytes + size)
          ended = last
          if (plain.length) this.push(plain)
        }
        cb()
      }
      catch (e) {
        cb(e instanceof SealedFileError ? e : new SealedFileError(`a sealed chunk does not open: ${(e as Error).message}`))
      }
    },
    flush(cb: TransformCallback) {
      cb(pending.length === 0 && (ended || !requireEnd) ? null : new SealedFileError('the sealed file ends before its last chunk'))
    },
  })
}
