import { type Cipher, createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { normaliseIdNumber } from './id-number.js'

/** Keys for personal data: one to encrypt ID numbers, one to find them by HMAC. */
export interface PiiKeys {
  enc: Buffer
  mac: Buffer
}

/** Derives the two keys from one 32-byte master key, so configuration holds a single secret. */
export function piiKeysFrom(master: Buffer): PiiKeys {
  if (master.length !== 32) throw new Error('PII_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)')
  return {
    enc: Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'grd id-number encryption', 32)),
    mac: Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'grd id-number hmac', 32)),
  }
}

/**
 * The master key from PII_KEY, or (for the embedded demo) from a key file under data/keys that is
 * created on first use with owner-only permissions.
 */
export function loadPiiKeys(opts: { envKey?: string; keyFile?: string }): PiiKeys {
  if (opts.envKey) return piiKeysFrom(Buffer.from(opts.envKey, 'base64'))
  if (!opts.keyFile) throw new Error('PII_KEY is not set: set it to 32 random bytes in base64 (openssl rand -base64 32)')
  if (!existsSync(opts.keyFile)) {
    mkdirSync(dirname(opts.keyFile), { recursive: true, mode: 0o700 })
    writeFileSync(opts.keyFile, randomBytes(32).toString('base64'), { mode: 0o600 })
  }
  return piiKeysFrom(Buffer.from(readFileSync(opts.keyFile, 'utf8').trim(), 'base64'))
}

/** AES-256-GCM: 12-byte nonce, 16-byte tag, then the ciphertext. */
export function encryptIdNumber(keys: PiiKeys, id: string): Buffer {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keys.enc, iv)
  const body = Buffer.concat([cipher.update(normaliseIdNumber(id), 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body])
}

/** The AES-ECB cipher of a key and its GHASH table: GCM's two parts, set up once per key. */
interface GcmParts {
  ecb: Cipher
  /** x·H for every byte x at every position of a block: 16 × 256 entries of four 32-bit words. */
  table: Uint32Array
}
const gcmByKey = new WeakMap<Buffer, GcmParts>()

function gcmParts(key: Buffer): GcmParts {
  const known = gcmByKey.get(key)
  if (known) return known
  const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false)
  const h = ecb.update(Buffer.alloc(16))
  // H·x^j for every bit j, in GCM's reflected bit order (bit 0 is the first byte's highest bit).
  const powers = new Uint32Array(128 * 4)
  let v0 = h.readUInt32BE(0)
  let v1 = h.readUInt32BE(4)
  let v2 = h.readUInt32BE(8)
  let v3 = h.readUInt32BE(12)
  for (let j = 0; j < 128; j++) {
    powers[j * 4] = v0
    powers[j * 4 + 1] = v1
    powers[j * 4 + 2] = v2
    powers[j * 4 + 3] = v3
    const carry = v3 & 1
    v3 = (v3 >>> 1) | ((v2 & 1) << 31)
    v2 = (v2 >>> 1) | ((v1 & 1) << 31)
    v1 = (v1 >>> 1) | ((v0 & 1) << 31)
    v0 = (v0 >>> 1) ^ (carry ? 0xE1000000 : 0)
  }
  const table = new Uint32Array(16 * 256 * 4)
  for (let i = 0; i < 16; i++) {
    for (let b = 0; b < 256; b++) {
      const at = (i * 256 + b) * 4
      for (let k = 0; k < 8; k++) {
        if (!(b & (0x80 >> k))) continue
        const p = (i * 8 + k) * 4
        for (let w = 0; w < 4; w++) table[at + w]! ^= powers[p + w]!
      }
    }
  }
  const parts = { ecb, table }
  gcmByKey.set(key, parts)
  return parts
}

/**
 * What encryptIdNumber gives, for many ID numbers at once: one AES pass over the counter blocks of
 * all of them and GHASH from a table, instead of a cipher set up per number, which made
 * encryption most of the time of loading millions of residents.
 */
export function encryptIdNumbers(keys: PiiKeys, ids: readonly string[]): Buffer[] {
  const { ecb, table } = gcmParts(keys.enc)
  const plain = ids.map(id => Buffer.from(normaliseIdNumber(id), 'utf8'))
  const ivs = randomBytes(12 * ids.length)
  // Per number: the block J0 (masks the tag), then one counter block per block of text from J0 + 1.
  const blocks = plain.reduce((n, p) => n + 1 + Math.ceil(p.length / 16), 0)
  const counters = Buffer.alloc(blocks * 16)
  let at = 0
  for (let i = 0; i < plain.length; i++) {
    const n = Math.ceil(plain[i]!.length / 16)
    for (let c = 0; c <= n; c++) {
      ivs.copy(counters, at, i * 12, i * 12 + 12)
      counters.writeUInt32BE(c + 1, at + 12)
      at += 16
    }
  }
  const stream = ecb.update(counters)
  const out: Buffer[] = []
  const scratch = Buffer.alloc(16)
  at = 0
  for (let i = 0; i < plain.length; i++) {
    const p = plain[i]!
    const n = Math.ceil(p.length / 16)
    const sealed = Buffer.alloc(28 + p.length)
    ivs.copy(sealed, 0, i * 12, i * 12 + 12)
    for (let k = 0; k < p.length; k++) sealed[28 + k] = p[k]! ^ stream[at + 16 + k]!
    let y0 = 0
    let y1 = 0
    let y2 = 0
    let y3 = 0
    for (let b = 0; b <= n; b++) {
      if (b < n && 28 + b * 16 + 16 <= sealed.length) {
        y0 ^= sealed.readUInt32BE(28 + b * 16)
        y1 ^= sealed.readUInt32BE(32 + b * 16)
        y2 ^= sealed.readUInt32BE(36 + b * 16)
        y3 ^= sealed.readUInt32BE(40 + b * 16)
      }
      else if (b < n) {
        scratch.fill(0)
        sealed.copy(scratch, 0, 28 + b * 16)
        y0 ^= scratch.readUInt32BE(0)
        y1 ^= scratch.readUInt32BE(4)
        y2 ^= scratch.readUInt32BE(8)
        y3 ^= scratch.readUInt32BE(12)
      }
      // The last block holds the lengths in bits: none of additional data, then the text's.
      else y3 ^= p.length * 8
      let z0 = 0
      let z1 = 0
      let z2 = 0
      let z3 = 0
      for (let j = 0; j < 16; j++) {
        const word = j < 4 ? y0 : j < 8 ? y1 : j < 12 ? y2 : y3
        const t = (j * 256 + ((word >>> (24 - 8 * (j & 3))) & 0xFF)) * 4
        z0 ^= table[t]!
        z1 ^= table[t + 1]!
        z2 ^= table[t + 2]!
        z3 ^= table[t + 3]!
      }
      y0 = z0
      y1 = z1
      y2 = z2
      y3 = z3
    }
    sealed.writeUInt32BE((y0 ^ stream.readUInt32BE(at)) >>> 0, 12)
    sealed.writeUInt32BE((y1 ^ stream.readUInt32BE(at + 4)) >>> 0, 16)
    sealed.writeUInt32BE((y2 ^ stream.readUInt32BE(at + 8)) >>> 0, 20)
    sealed.writeUInt32BE((y3 ^ stream.readUInt32BE(at + 12)) >>> 0, 24)
    out.push(sealed)
    at += (n + 1) * 16
  }
  return out
}

export function decryptIdNumber(keys: PiiKeys, blob: Uint8Array): string {
  const buf = Buffer.from(blob)
  const decipher = createDecipheriv('aes-256-gcm', keys.enc, buf.subarray(0, 12))
  decipher.setAuthTag(buf.subarray(12, 28))
  return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8')
}

/** Deterministic keyed hash for exact search without decrypting every row. */
export function hmacIdNumber(keys: PiiKeys, id: string): Buffer {
  return createHmac('sha256', keys.mac).update(normaliseIdNumber(id)).digest()
}

/** Letters or digits a reason for seeing a full ID number must hold (spaces and punctuation do not count). */
export const revealReasonMinChars = 4

/**
 * The stated reason for a reveal, trimmed, or null when it says nothing: fewer than
 * revealReasonMinChars letters or digits (in any script), however long the text of blanks and dots.
 */
export function revealReason(text: string): string | null {
  const reason = text.trim()
  return (reason.match(/[\p{L}\p{N}]/gu)?.length ?? 0) >= revealReasonMinChars ? reason : null
}
