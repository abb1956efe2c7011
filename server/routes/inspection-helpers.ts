import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Tx } from '../db/index.js'
import type { ClientWriteAction } from '../plugins/app/client-writes.js'
import type { HazardRow } from '../plugins/app/inspection.js'

const iso = (d: Date | null) => (d ? d.toISOString() : null)

interface HazardEvent { at: Date; status: string; departmentCode: string | null; note: string | null; username: string | null }

/** A hazard row as the API answers it (times as ISO strings). */
export function hazardDto(h: HazardRow & { events?: HazardEvent[] }) {
  return {
    ...h,
    foundAt: h.foundAt.toISOString(),
    referredAt: iso(h.referredAt),
    rectifiedAt: iso(h.rectifiedAt),
    verifiedAt: iso(h.verifiedAt),
    events: h.events?.map(e => ({ ...e, at: e.at.toISOString() })),
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
