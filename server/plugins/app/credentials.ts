import { setTimeout as sleep } from 'node:timers/promises'
import fp from 'fastify-plugin'
import { dummyHash, verifyPassword } from '../../domain/passwords.js'
import { type Credentials, sessionPolicy, type UserRow } from './users.js'

/** Where an attempt came from, for its audit row. */
export interface AttemptContext {
  /** 'auth.login' for the sign-in page, 'auth.basic' for HTTP Basic on /ogc. */
  action: 'auth.login' | 'auth.basic'
  ip: string
  requestId: string
}

/** The outcome of checking a user name and password. */
export type CheckOutcome =
  | { ok: true; user: UserRow & Credentials }
  /** Refused without looking at the password: too many attempts for this name. */
  | { ok: false; reason: 'locked'; retryAfterSeconds: number }
  /** lockedNow: this failure reached the limit (or the name was locked meanwhile). */
  | { ok: false; reason: 'wrong-credentials'; lockedNow: boolean }
  | { ok: false; reason: 'account-disabled'; user: UserRow }

declare module 'fastify' {
  interface FastifyInstance {
    /** The one check of a user name and password, shared by the sign-in page and HTTP Basic. */
    credentials: { check: (username: string, password: string, ctx: AttemptContext) => Promise<CheckOutcome> }
  }
}

/**
 * Checks credentials behind the sign-in throttle. The attempt is counted atomically before the
 * password is looked at, so that however many arrive at once no more than `lockAfter` of them are
 * checked; the right password clears the count. Known and unknown user names take the same path
 * (a hash of nothing for unknown ones), so the answer and the work are the same for both. No
 * transaction is held open while hashing or waiting: the embedded database has one connection.
 * Every refusal is written to the audit trail with the failure it records.
 */
export default fp(async (app) => {
  async function check(name: string, password: string, ctx: AttemptContext): Promise<CheckOutcome> {
    const username = name.trim().toLowerCase()
    // Rows by the low-level writer: no user is signed in yet, and one check may serve several
    // requests (identical HTTP Basic headers arriving together), so the attempt's context names them.
    const audit = { username, action: ctx.action, ip: ctx.ip, requestId: ctx.requestId }
    const { attempt, lockedUntil } = await app.users.reserveAttempt(username)
    // A lock the database answers is current (one that has run out starts the count again).
    if (attempt > sessionPolicy.lockAfter || lockedUntil !== null) {
      await app.audit.write(app.db.sql, { ...audit, userId: null, outcome: 'denied', reason: 'locked' })
      const seconds = lockedUntil ? (lockedUntil.getTime() - Date.now()) / 1000 : sessionPolicy.lockMinutes * 60
      return { ok: false, reason: 'locked', retryAfterSeconds: Math.max(60, Math.ceil(seconds / 60) * 60) }
    }
    // Each failure beyond the first few makes the next attempt slower.
    if (attempt > sessionPolicy.slowAfter) await sleep(Math.min(4000, 500 * (attempt - sessionPolicy.slowAfter)))

    const user = await app.users.byUsername(username)
    const passwordOk = await verifyPassword(password, user?.passwordHash ?? dummyHash)
    if (!user || !passwordOk) {
      const locked = await app.db.sql.begin(async (tx) => {
        const until = await app.users.attemptFailed(tx, username)
        await app.audit.write(tx, { ...audit, userId: user?.id ?? null, outcome: 'failed', reason: 'wrong-password' })
        return until
      })
      return { ok: false, reason: 'wrong-credentials', lockedNow: locked !== null }
    }
    // The password is proven: the count starts again even for an account that is disabled.
    await app.users.clearFailures(app.db.sql, username)
    if (user.disabledAt) {
      await app.audit.write(app.db.sql, { ...audit, userId: user.id, outcome: 'denied', reason: 'disabled' })
      return { ok: false, reason: 'account-disabled', user }
    }
    return { ok: true, user }
  }

  app.decorate('credentials', { check })
}, { name: 'credentials', dependencies: ['db', 'users', 'audit'] })
