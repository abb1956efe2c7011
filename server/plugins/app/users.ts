import { createHash, randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { type Jurisdiction, type JurisdictionKind, type Role, roles } from '../../domain/access.js'
import type { DataVersions } from './versions.js'

/** What a request knows of its signed-in user. */
export interface SessionUser {
  id: number
  username: string
  displayName: string
  role: Role
  jurisdiction: Jurisdiction
  sessionId: number
}

export interface UserRow {
  id: number
  username: string
  displayName: string
  role: Role
  jurisdictionKind: JurisdictionKind
  jurisdictionTownId: number | null
  jurisdictionStationId: number | null
  isDemo: boolean
  disabledAt: Date | null
  createdAt: Date
  passwordChangedAt: Date
}

/** What only the sign-in check reads: the password hash, and the stamp bumped by every change that ends access. */
export interface Credentials {
  passwordHash: string
  authStamp: number
}

export const sessionPolicy = {
  /** Signed out after this long without a request. */
  idleMinutes: 30,
  /** Signed out after this long whatever happens. */
  absoluteHours: 12,
  /** Failures before each further attempt is slowed down. */
  slowAfter: 3,
  /** Failures that lock the name for lockMinutes; no more attempts than this are ever checked at once. */
  lockAfter: 5,
  lockMinutes: 15,
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest()

export function jurisdictionOf(u: Pick<UserRow, 'jurisdictionKind' | 'jurisdictionTownId' | 'jurisdictionStationId'>): Jurisdiction {
  return {
    kind: u.jurisdictionKind,
    id: u.jurisdictionKind === 'town' ? u.jurisdictionTownId : u.jurisdictionKind === 'police_station' ? u.jurisdictionStationId : null,
  }
}

/** What a request knows of an account, from its current row (the session id is the caller's). */
export function sessionUserOf(u: Pick<UserRow, 'id' | 'username' | 'displayName' | 'role' | 'jurisdictionKind' | 'jurisdictionTownId' | 'jurisdictionStationId'>): Omit<SessionUser, 'sessionId'> {
  return { id: u.id, username: u.username, displayName: u.displayName, role: u.role, jurisdiction: jurisdictionOf(u) }
}

const userColumns = (sql: Sql | Tx) => sql`id, username, display_name, role, jurisdiction_kind, jurisdiction_town_id,
  jurisdiction_station_id, is_demo, disabled_at, created_at, password_changed_at`

/** A session as read, with its limits turned into times on this process's clock (no skew with the database's). */
interface KeptSession {
  version: number
  sessionId: number
  user: SessionUser
  revokedAt: Date | null
  disabledAt: Date | null
  expiresAt: number
  /** Last seen (the idle limit runs from here). */
  seenAt: number
}

/** When a session last seen at `seenAt` goes idle. */
const idleAt = (s: KeptSession) => s.seenAt + sessionPolicy.idleMinutes * 60_000

/** The most sessions kept in memory; the least recently used goes first. */
const maxSessions = 10_000

/** Accounts, sessions and the sign-in throttle; with `versions`, the sessions looked up are kept in memory (session()). */
export function usersRepository(sql: Sql, opts: { versions?: DataVersions } = {}) {
  const sessions = new Map<string, KeptSession>()

  async function readSession(hash: Buffer, version: number, db: Sql | Tx): Promise<KeptSession | undefined> {
    const [s] = await db<(UserRow & { sessionId: number; revokedAt: Date | null; sinceSeen: number; untilExpiry: number })[]>`
      select s.id as session_id, s.revoked_at,
             extract(epoch from now() - s.last_seen_at)::float8 as since_seen, extract(epoch from s.expires_at - now())::float8 as until_expiry,
             u.id, u.username, u.display_name, u.role, u.jurisdiction_kind, u.jurisdiction_town_id, u.jurisdiction_station_id, u.disabled_at
      from user_session s join app_user u on u.id = s.user_id
      where s.token_hash = ${hash}`
    if (!s) return undefined
    const now = Date.now()
    const seenAt = now - s.sinceSeen * 1000
    return {
      version,
      sessionId: s.sessionId,
      user: { ...sessionUserOf(s), sessionId: s.sessionId },
      revokedAt: s.revokedAt,
      disabledAt: s.disabledAt,
      expiresAt: now + s.untilExpiry * 1000,
      seenAt,
    }
  }

  return {
    async byUsername(username: string, db: Sql | Tx = sql): Promise<(UserRow & Credentials) | undefined> {
      const [u] = await db<(UserRow & Credentials)[]>`
        select ${userColumns(db)}, password_hash, auth_stamp from app_user where username = ${username.toLowerCase()}`
      return u
    },

    /** The account as it is now, with its stamp: what a remembered credential is checked against on every request. */
    async current(id: number, db: Sql | Tx = sql): Promise<(UserRow & Pick<Credentials, 'authStamp'>) | undefined> {
      const [u] = await db<(UserRow & Pick<Credentials, 'authStamp'>)[]>`select ${userColumns(db)}, auth_stamp from app_user where id = ${id}`
      return u
    },

    async byId(id: number, db: Sql | Tx = sql): Promise<UserRow | undefined> {
      const [u] = await db<UserRow[]>`select ${userColumns(db)} from app_user where id = ${id}`
      return u
    },

    async list(db: Sql | Tx = sql): Promise<UserRow[]> {
      return [...await db<UserRow[]>`select ${userColumns(db)} from app_user order by username`]
    },

    /** Active commanders who may be made responsible for a key area in a jurisdiction (the district's ones everywhere). */
    async commanders(scope: Jurisdiction, db: Sql | Tx = sql): Promise<{ id: number; username: string; displayName: string }[]> {
      return [...await db<{ id: number; username: string; displayName: string }[]>`
        select id, username, display_name from app_user
        where role = 'commander' and disabled_at is null
          ${scope.kind === 'town' ? db`and (jurisdiction_town_id = ${scope.id!} or jurisdiction_kind = 'district')` : db``}
          ${scope.kind === 'police_station' ? db`and (jurisdiction_station_id = ${scope.id!} or jurisdiction_kind = 'district')` : db``}
        order by display_name`]
    },

    /** The demo accounts the sign-in page lists in demo mode, one per role in the roles' order. */
    async demoAccounts(db: Sql | Tx = sql): Promise<{ username: string; role: Role; displayName: string }[]> {
      return [...await db<{ username: string; role: Role; displayName: string }[]>`
        select username, role, display_name from app_user where is_demo and disabled_at is null
        order by array_position(${db.array([...roles])}::text[], role), id`]
    },

    async create(tx: Tx, u: { username: string; displayName: string; role: Role; jurisdiction: Jurisdiction; passwordHash: string; createdBy: number | null; isDemo?: boolean }): Promise<UserRow> {
      const [row] = await tx<UserRow[]>`
        insert into app_user (username, display_name, password_hash, role, jurisdiction_kind, jurisdiction_town_id,
          jurisdiction_station_id, is_demo, created_by)
        values (${u.username.toLowerCase()}, ${u.displayName}, ${u.passwordHash}, ${u.role}, ${u.jurisdiction.kind},
          ${u.jurisdiction.kind === 'town' ? u.jurisdiction.id : null}, ${u.jurisdiction.kind === 'police_station' ? u.jurisdiction.id : null},
          ${u.isDemo ?? false}, ${u.createdBy})
        returning ${userColumns(tx)}`
      return row!
    },

    async update(tx: Tx, id: number, change: { displayName?: string; role?: Role; jurisdiction?: Jurisdiction; disabled?: boolean }): Promise<UserRow | undefined> {
      const [row] = await tx<UserRow[]>`
        update app_user set
          display_name = coalesce(${change.displayName ?? null}, display_name),
          role = coalesce(${change.role ?? null}, role),
          jurisdiction_kind = ${change.jurisdiction ? change.jurisdiction.kind : tx`jurisdiction_kind`},
          jurisdiction_town_id = ${change.jurisdiction ? (change.jurisdiction.kind === 'town' ? change.jurisdiction.id : null) : tx`jurisdiction_town_id`},
          jurisdiction_station_id = ${change.jurisdiction ? (change.jurisdiction.kind === 'police_station' ? change.jurisdiction.id : null) : tx`jurisdiction_station_id`},
          disabled_at = ${change.disabled === undefined ? tx`disabled_at` : change.disabled ? tx`coalesce(disabled_at, now())` : null}
        where id = ${id}
        returning ${userColumns(tx)}`
      return row
    },

    async setPassword(tx: Tx, id: number, passwordHash: string): Promise<void> {
      await tx`update app_user set password_hash = ${passwordHash}, password_changed_at = now() where id = ${id}`
    },

    /** Creates a session and returns the token for the cookie (only its hash is stored). */
    async createSession(tx: Tx, userId: number, ip: string, userAgent: string | undefined): Promise<{ token: string; id: number; expiresAt: Date }> {
      const token = randomBytes(32).toString('base64url')
      const [row] = await tx<{ id: number; expiresAt: Date }[]>`
        insert into user_session (token_hash, user_id, expires_at, ip, user_agent)
        values (${hashToken(token)}, ${userId}, now() + make_interval(hours => ${sessionPolicy.absoluteHours}), ${ip}, ${userAgent?.slice(0, 300) ?? null})
        returning id, expires_at`
      return { token, id: row!.id, expiresAt: row!.expiresAt }
    },

    /**
     * The session behind a cookie token: 'ok' with its user, or why it is not valid. Touches
     * last_seen_at at most once a minute, so that reading pages does not write on every request.
     *
     * Sessions looked up are kept in memory under the session version (migration 045), which moves
     * on every change that can end one (revoked, account changed or disabled, expiry moved), so that
     * a request of a signed-in user costs no query: the cache check of a tile, the summary, `me`
     * answer with no database round trip. The idle and absolute limits run on this process's clock
     * from what the row said when read; a session that looks idle from memory is read again, as
     * another process may have seen it since.
     */
    async session(token: string, db: Sql | Tx = sql): Promise<{ state: 'ok'; user: SessionUser } | { state: 'expired' | 'revoked' | 'unknown' | 'disabled' }> {
      const cacheable = opts.versions !== undefined && db === sql
      // Known before reading: a row read is at least as new as the version it is kept under.
      const version = cacheable ? await opts.versions!.current('sessions') : 0
      // Kept under the token itself, so that a request whose session is kept hashes nothing (the
      // database holds only the token's hash; this process already holds the token it was sent).
      const key = token
      let kept = cacheable ? sessions.get(key) : undefined
      if (kept) {
        // Taken out, and put back last if still good: the least recently used goes first.
        sessions.delete(key)
        if (kept.version !== version || Date.now() >= idleAt(kept)) kept = undefined
        else sessions.set(key, kept)
      }
      const s = kept ?? await readSession(hashToken(token), version, db)
      if (!s) return { state: 'unknown' }
      if (cacheable && !kept) {
        sessions.set(key, s)
        if (sessions.size > maxSessions) sessions.delete(sessions.keys().next().value!)
      }
      if (s.revokedAt) return { state: 'revoked' }
      if (s.disabledAt) return { state: 'disabled' }
      const now = Date.now()
      if (now >= s.expiresAt || now >= idleAt(s)) return { state: 'expired' }
      if (now - s.seenAt > 60_000) {
        // Marked seen before the write: the same session's other requests meanwhile (a map asks for
        // dozens of tiles at once) find it fresh and do not queue on the row's lock, each holding a
        // pooled connection. Under the load test all of a minute's requests did, pausing the pool
        // for seconds once a minute.
        const before = s.seenAt
        s.seenAt = now
        try {
          await db`update user_session set last_seen_at = now() where id = ${s.sessionId}`
        }
        catch (err) {
          s.seenAt = before
          throw err
        }
      }
      // A copy: the kept one serves the next requests too.
      return { state: 'ok', user: { ...s.user, jurisdiction: { ...s.user.jurisdiction } } }
    },

    async revokeSession(db: Sql | Tx, sessionId: number): Promise<void> {
      await db`update user_session set revoked_at = coalesce(revoked_at, now()) where id = ${sessionId}`
    },

    /** Ends every session and bumps the account's stamp, which ends remembered HTTP Basic credentials too. */
    async revokeAllSessions(tx: Tx, userId: number): Promise<number> {
      await tx`update app_user set auth_stamp = auth_stamp + 1 where id = ${userId}`
      const rows = await tx`update user_session set revoked_at = now() where user_id = ${userId} and revoked_at is null returning id`
      return rows.length
    },

    /**
     * Reserves one sign-in attempt for a user name before its password is checked: one upsert
     * counts it and answers the count, so that attempts running at the same moment are numbered
     * one after another and the attempt past the limit is refused whatever the timing. A lock that
     * has run out, or a count with no attempt for the lock period (a crash mid-attempt), starts
     * again; refused attempts do not prolong the quiet period.
     */
    async reserveAttempt(username: string): Promise<{ attempt: number; lockedUntil: Date | null }> {
      const fresh = sql`(t.locked_until > now() or (t.locked_until is null
        and t.last_attempt_at > now() - make_interval(mins => ${sessionPolicy.lockMinutes})))`
      const [t] = await sql<{ failures: number; lockedUntil: Date | null }[]>`
        insert into login_throttle as t (username, failures, last_attempt_at)
        values (${username.toLowerCase()}, 1, now())
        on conflict (username) do update set
          failures = case when ${fresh} then t.failures + 1 else 1 end,
          last_attempt_at = case when ${fresh} and t.failures >= ${sessionPolicy.lockAfter} then t.last_attempt_at else now() end,
          locked_until = case when ${fresh} then t.locked_until else null end
        returning failures, locked_until`
      return { attempt: t!.failures, lockedUntil: t!.lockedUntil }
    },

    /**
     * A reserved attempt failed: once the count has reached the limit the name is locked for
     * lockMinutes (an existing lock is kept). Answers the lock, or null while the name is not locked.
     */
    async attemptFailed(db: Sql | Tx, username: string): Promise<Date | null> {
      const [t] = await db<{ lockedUntil: Date }[]>`
        update login_throttle set locked_until = case when locked_until > now() then locked_until
                                                      else now() + make_interval(mins => ${sessionPolicy.lockMinutes}) end
        where username = ${username.toLowerCase()} and failures >= ${sessionPolicy.lockAfter}
        returning locked_until`
      return t?.lockedUntil ?? null
    },

    /** A right password (or an administrator's reset): the count starts again. */
    async clearFailures(db: Sql | Tx, username: string): Promise<void> {
      await db`delete from login_throttle where username = ${username.toLowerCase()}`
    },

    async setting<T>(key: string, db: Sql | Tx = sql): Promise<T | undefined> {
      const [row] = await db<{ value: T }[]>`select value from app_setting where key = ${key}`
      return row?.value
    },
  }
}

export type UsersRepository = ReturnType<typeof usersRepository>

declare module 'fastify' {
  interface FastifyInstance {
    users: UsersRepository
  }
}

export default fp(async (app) => {
  app.decorate('users', usersRepository(app.db.sql, { versions: app.versions }))
}, { name: 'users', dependencies: ['db', 'versions'] })
