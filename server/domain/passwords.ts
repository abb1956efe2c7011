import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { channel } from 'node:diagnostics_channel'

/**
 * Told of every password check with the scrypt parameters it runs ({ n, r, p }), for observers
 * such as tests and profilers: whether a request paid for a hash is seen here, not guessed from
 * its timing. Nothing is published while nobody subscribes.
 */
export const passwordChecks = channel('grd:password-check')

/** scrypt parameters: N=2^15 costs about 0.1 s and 32 MiB per check, slow enough for guessing. */
const N = 2 ** 15
const r = 8
const p = 1
const keyLength = 32
const maxmem = 64 * 1024 * 1024

function derive(password: string, salt: Buffer, n: number, rr: number, pp: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, { N: n, r: rr, p: pp, maxmem }, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** "scrypt$N$r$p$salt$hash" (base64 parts), so parameters can be raised later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, N, r, p)
  return ['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$')
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, rr, pp, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  if (passwordChecks.hasSubscribers) passwordChecks.publish({ n: Number(n), r: Number(rr), p: Number(pp) })
  const key = await derive(password, Buffer.from(salt, 'base64'), Number(n), Number(rr), Number(pp))
  return key.length === expected.length && timingSafeEqual(key, expected)
}

/** A hash of nothing, checked against when the user name does not exist, so timing tells nothing. */
export const dummyHash = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='

/** Why a new password is not acceptable (in English and Chinese), or null. */
export function passwordProblem(password: string, username?: string): { en: string; zh: string } | null {
  if (password.length < 8) return { en: 'the password must have at least 8 characters', zh: '密码至少 8 个字符' }
  if (password.length > 200) return { en: 'the password must have at most 200 characters', zh: '密码至多 200 个字符' }
  if (username && password.toLowerCase().includes(username.toLowerCase())) return { en: 'the password must not contain the user name', zh: '密码不能包含用户名' }
  return null
}
