import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
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
