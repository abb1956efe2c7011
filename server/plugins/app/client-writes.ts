import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import type { Tx } from '../../db/index.js'
import { HttpError } from '../../lib/http-errors.js'

/**
 * Writes that carry a client-made id (a UUID made by the phone), so that the same write sent again
 * — an offline queue replayed, a save retried after its answer was lost — is answered with the
 * record the first one made or changed, and writes nothing. Table `client_write` (migration 024).
 */

/** The writes an inspector can make offline, as the `action` of their client_write row. */
export type ClientWriteAction = 'premises.create' | 'premises.update' | 'hazard.create' | 'hazard.refer' | 'hazard.rectify' | 'hazard.verify'

/** What the first write made or changed, and the status it was answered with. */
export interface ClientWriteResult {
  entity: 'premises' | 'hazard'
  entityId: number
  status: number
}

/** An id already used for a different write (another body, record, step or user). */
export const clientIdReused = () => new HttpError(409,
  'This write\'s client id was already used for a different write (another record, body or user); make a new id for each write.',
  'client-id-reused', '此次提交的客户端编号已用于另一项不同的提交（其他记录、内容或用户）；每次提交须使用新的编号。')

/** JSON with its object keys sorted, so that the same body hashes the same whatever its key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** The fingerprint of one write: what it does, to which record, with which body. */
export function requestHash(action: ClientWriteAction, target: number | null, body: unknown): Buffer {
  return createHash('sha256').update(canonical({ action, target, body })).digest()
}

export function clientWritesRepository() {
  return {
    /**
     * Claims `clientId` for this write in the caller's transaction. Answers the first write's
     * result when this is the same write again (a copy racing this one waits on the key until
     * it commits or rolls back); throws 409 `client-id-reused` when the id named another write.
     */
    async claim(tx: Tx, input: { clientId: string; userId: number; action: ClientWriteAction; target: number | null; body: unknown }): Promise<ClientWriteResult | undefined> {
      const hash = requestHash(input.action, input.target, input.body)
      const [claimed] = await tx`
        insert into client_write (client_id, user_id, action, request_hash)
        values (${input.clientId}, ${input.userId}, ${input.action}, ${hash})
        on conflict (client_id) do nothing
        returning client_id`
      if (claimed) return undefined
      const [prior] = await tx<{ userId: number; action: string; requestHash: Buffer; entity: 'premises' | 'hazard' | null; entityId: number | null; status: number | null }[]>`
        select user_id, action, request_hash, entity, entity_id, status from client_write where client_id = ${input.clientId}`
      if (!prior || prior.userId !== input.userId || prior.action !== input.action || !hash.equals(prior.requestHash) || prior.entityId === null) {
        throw clientIdReused()
      }
      return { entity: prior.entity!, entityId: Number(prior.entityId), status: prior.status ?? 200 }
    },

    /** Records what the claimed write made or changed, before its transaction commits. */
    async complete(tx: Tx, clientId: string, result: ClientWriteResult): Promise<void> {
      await tx`update client_write set entity = ${result.entity}, entity_id = ${result.entityId}, status = ${result.status} where client_id = ${clientId}`
    },
  }
}

/** How a write with a client id went: done now (its value), or done before (the record it made or changed). */
export type ClientWriteOutcome<T> = { replayed: false; value: T } | { replayed: true; entityId: number; status: number }

/**
 * Runs `write` in the caller's transaction under the client's id for it, when it has one: the same
 * write sent again (same id, user, record and body) is not run again but named; an id used for a
 * different write is refused with 409 `client-id-reused`. Without an id the write just runs.
 */
export async function clientWrite<T>(
  app: FastifyInstance, tx: Tx,
  spec: { clientId: string | undefined; userId: number; action: ClientWriteAction; target: number | null; body: unknown },
  write: () => Promise<{ value: T; entity: 'premises' | 'hazard'; entityId: number; status: number }>,
): Promise<ClientWriteOutcome<T>> {
  if (!spec.clientId) return { replayed: false, value: (await write()).value }
  const prior = await app.clientWrites.claim(tx, { ...spec, clientId: spec.clientId })
  if (prior) return { replayed: true, entityId: prior.entityId, status: prior.status }
  const done = await write()
  await app.clientWrites.complete(tx, spec.clientId, { entity: done.entity, entityId: done.entityId, status: done.status })
  return { replayed: false, value: done.value }
}

/** Marks an answer as the replay of an earlier write (like the photo uploads do). */
export function markReplayed(reply: FastifyReply, status: number): FastifyReply {
  return reply.header('Idempotent-Replayed', 'true').status(status)
}

export type ClientWritesRepository = ReturnType<typeof clientWritesRepository>

declare module 'fastify' {
  interface FastifyInstance {
    clientWrites: ClientWritesRepository
  }
}

export default fp(async (app) => {
  app.decorate('clientWrites', clientWritesRepository())
}, { name: 'client-writes', dependencies: ['db'] })
