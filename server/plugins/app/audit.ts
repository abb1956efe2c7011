import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import type postgres from 'postgres'
import { maskPersonalText, redactPersonal } from '../../domain/redact.js'

export interface AuditEntry {
  userId: number | null
  username: string | null
  action: string
  entity?: string | null
  entityId?: string | number | null
  before?: unknown
  after?: unknown
  reason?: string | null
  ip?: string | null
  outcome?: 'ok' | 'denied' | 'failed'
  requestId?: string | null
}

/**
 * What a request's audit row says. Who acted, from which address and in which request are the
 * request's own; `userId` and `username` name someone else only where the request has no signed-in
 * user yet (a sign-in names the account it opened).
 */
export type AuditRecord = Omit<AuditEntry, 'userId' | 'username' | 'ip' | 'requestId'> & {
  userId?: number | null
  username?: string | null
}

export interface AuditQuery {
  userId?: number
  username?: string
  entity?: string
  entityId?: string
  action?: string
  outcome?: 'ok' | 'denied' | 'failed'
  from?: Date
  to?: Date
  limit: number
  beforeId?: number
}

/**
 * The append-only audit trail. Writes pass the transaction of the change they record, so that the
 * change and its audit row are committed together or not at all.
 *
 * The trail is read by administrators, who do not see people, so every copy it keeps is redacted
 * here, whoever wrote it: personal fields become "(set)", ID and phone numbers typed into free text
 * (a hazard note, an address, a stated reason) are masked. Rows are redacted again when read, for
 * the rows written before this rule (the table refuses UPDATE, so they cannot be cleaned in place).
 */
export function auditRepository(sql: Sql) {
  /** The low-level writer, for the few rows no request stands behind (the command line, a shared sign-in check). */
  async function write(db: Sql | Tx, e: AuditEntry): Promise<void> {
    await db`
      insert into audit_log (user_id, username, action, entity, entity_id, before, after, reason, ip, outcome, request_id)
      values (${e.userId}, ${e.username}, ${e.action}, ${e.entity ?? null}, ${e.entityId === undefined || e.entityId === null ? null : String(e.entityId)},
              ${e.before === undefined ? null : db.json(redactPersonal(e.before) as postgres.JSONValue)}, ${e.after === undefined ? null : db.json(redactPersonal(e.after) as postgres.JSONValue)},
              ${e.reason === undefined || e.reason === null ? null : maskPersonalText(e.reason)}, ${e.ip ?? null}, ${e.outcome ?? 'ok'}, ${e.requestId ?? null})`
  }

  return {
    write,

    /**
     * The audit row of what a request did, in `db`: the transaction of the change it records, so
     * that both are committed or neither, or the pool for a row that stands alone (a read, a refusal).
     */
    async record(db: Sql | Tx, req: FastifyRequest, r: AuditRecord): Promise<void> {
      const { userId, username, ...rest } = r
      await write(db, {
        ...rest,
        userId: userId === undefined ? req.user?.id ?? null : userId,
        username: username === undefined ? req.user?.username ?? null : username,
        ip: req.ip,
        requestId: req.id,
      })
    },

    /** Newest first; page with beforeId (the last id of the previous page). */
    async search(q: AuditQuery, db: Sql | Tx = sql) {
      const parts = [db`true`]
      if (q.userId !== undefined) parts.push(db`user_id = ${q.userId}`)
      if (q.username) parts.push(db`username = ${q.username}`)
      if (q.entity) parts.push(db`entity = ${q.entity}`)
      if (q.entityId) parts.push(db`entity_id = ${q.entityId}`)
      if (q.action) parts.push(db`action = ${q.action}`)
      if (q.outcome) parts.push(db`outcome = ${q.outcome}`)
      if (q.from) parts.push(db`at >= ${q.from}`)
      if (q.to) parts.push(db`at < ${q.to}`)
      if (q.beforeId) parts.push(db`id < ${q.beforeId}`)
      const where = parts.reduce((a, b) => db`${a} and ${b}`)
      // For people reading the trail: who acted by their display name, and the record by its name
      // (an address, a key area's or a view's name, an account's display name; never a resident's).
      const rows = await db<{ id: number; at: Date; userId: number | null; username: string | null; userName: string | null; action: string; entity: string | null;
        entityId: string | null; recordName: string | null; before: unknown; after: unknown; reason: string | null; ip: string | null; outcome: string }[]>`
        select a.id, a.at, a.user_id, a.username, u.display_name as user_name, a.action, a.entity, a.entity_id,
          case when a.entity_id !~ '^[0-9]{1,9}$' then null
               when a.entity = 'premises' then (select p.address from premises p where p.id = a.entity_id::int)
               when a.entity = 'hazard' then (select h.item_code || ' · ' || p.address from hazard h join premises p on p.id = h.premises_id where h.id = a.entity_id::int)
               when a.entity = 'key_area' then (select k.name_zh from key_area k where k.id = a.entity_id::int)
               when a.entity = 'user' then (select x.display_name from app_user x where x.id = a.entity_id::int)
               when a.entity = 'saved_view' then (select v.name from saved_view v where v.id = a.entity_id::int)
          end as record_name,
          a.before, a.after, a.reason, a.ip, a.outcome
        from (select * from audit_log where ${where} order by id desc limit ${q.limit}) a
        left join app_user u on u.id = a.user_id
        order by a.id desc`
      return rows.map(r => ({
        ...r, at: r.at.toISOString(), before: redactPersonal(r.before), after: redactPersonal(r.after), reason: r.reason === null ? null : maskPersonalText(r.reason),
        recordName: r.recordName === null ? null : maskPersonalText(r.recordName),
      }))
    },
  }
}

export type AuditRepository = ReturnType<typeof auditRepository>

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditRepository
  }
}

export default fp(async (app) => {
  app.decorate('audit', auditRepository(app.db.sql))
}, { name: 'audit', dependencies: ['db'] })
