import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { daysBetween } from '../../domain/calendar.js'
import { acceptanceChecklist, acceptanceStageOf } from '../../domain/lists.js'
import { HttpError, notFound } from '../../lib/http-errors.js'
import { keyAreaScope, type KeyAreaViewer } from './key-areas-scope.js'

/**
 * Acceptance and delisting of key areas (检查验收 / 摘牌): the town submits a key area once no
 * hazard is open inside it, with the checklist confirmed and its evidence named; another commander
 * (the district's, or a colleague: never the submitter) accepts it, which delists it, or returns
 * it with reasons. The submissions and decisions are the history.
 */
interface AcceptanceRow {
  id: number
  keyAreaId: number
  submittedBy: string
  submittedById: number
  submittedAt: Date
  checklist: Record<string, boolean>
  note: string | null
  photoIds: (number | string)[]
  documents: string[]
  decision: 'accepted' | 'returned' | null
  reasons: string | null
  decidedBy: string | null
  decidedAt: Date | null
}

const dto = ({ submittedById: _s, ...r }: AcceptanceRow) => ({
  ...r, submittedAt: r.submittedAt.toISOString(), decidedAt: r.decidedAt?.toISOString() ?? null, photoIds: r.photoIds.map(Number),
})

export function acceptanceRepository(sql: Sql) {
  const select = (db: Sql | Tx) => db`
    select a.id, a.key_area_id, s.display_name as submitted_by, a.submitted_by as submitted_by_id, a.submitted_at, a.checklist, a.note, a.photo_ids, a.documents,
           a.decision, a.reasons, d.display_name as decided_by, a.decided_at
    from key_area_acceptance a join app_user s on s.id = a.submitted_by left join app_user d on d.id = a.decided_by`

  /** The key area inside the viewer's scope with its open hazards, locked when in a transaction, or 404. */
  async function keyArea(db: Sql | Tx, viewer: KeyAreaViewer, id: number, lock = false) {
    const [k] = await db<{ id: number; status: string; deadline: string | null }[]>`
      select k.id, k.status, k.deadline from key_area k where k.id = ${id} and k.deleted_at is null and ${keyAreaScope(db, viewer)} ${lock ? db`for update` : db``}`
    if (!k) throw notFound(`there is no key area with id ${id}`, `没有编号为 ${id} 的重点地区`)
    const [n] = await db<{ n: number }[]>`
      select count(*)::int as n from key_area k join premises p on p.geom && k.geom and st_intersects(k.geom, p.geom)
      join hazard h on h.premises_id = p.id where k.id = ${id} and h.status in ('found', 'referred')`
    return { ...k, openHazards: n!.n }
  }

  return {
    /** Where a key area stands: its stage, open hazards, days to its deadline, and every submission. */
    async stage(viewer: KeyAreaViewer, id: number, today: string) {
      const k = await keyArea(sql, viewer, id)
      const history = (await sql<AcceptanceRow[]>`${select(sql)} where a.key_area_id = ${id} order by a.submitted_at desc, a.id desc`).map(dto)
      const last = history[0]
      const stage = acceptanceStageOf(k.status, last?.decision)
      return { keyAreaId: id, status: k.status, stage, openHazards: k.openHazards, deadline: k.deadline, daysToDeadline: k.deadline ? daysBetween(today, k.deadline) : null, history }
    },

    async submit(tx: Tx, viewer: KeyAreaViewer, byId: number, id: number, input: { checklist: Record<string, boolean>; note: string | null; photoIds: number[]; documents: string[] }) {
      const k = await keyArea(tx, viewer, id, true)
      if (k.status !== 'listed' && k.status !== 'cleared') throw new HttpError(409, `key area ${id} is ${k.status}: only a listed key area is submitted for acceptance`, 'key-area-not-listed', `重点地区 ${id} 当前为“${k.status}”：只有挂牌的重点地区可申请验收`)
      if (k.openHazards > 0) throw new HttpError(409, `${k.openHazards} hazards are still open in key area ${id}: it is submitted once they are cleared to zero`, 'key-area-hazards-open', `重点地区 ${id} 内仍有 ${k.openHazards} 处隐患未整改：清零后方可申请验收`)
      const missing = acceptanceChecklist.filter(c => !input.checklist[c])
      if (missing.length) throw new HttpError(400, `the checklist is not complete: ${missing.join(', ')}`, 'checklist-incomplete', `验收清单尚未全部确认：${missing.length} 项未确认`)
      if (input.photoIds.length) {
        const found = await tx<{ id: number }[]>`
          select ph.id from photo ph join premises p on p.id = ph.premises_id join key_area k on k.id = ${id}
          where ph.id in ${tx(input.photoIds)} and ph.deleted_at is null and p.geom && k.geom and st_intersects(k.geom, p.geom)`
        const ok = new Set(found.map(f => Number(f.id)))
        const stray = input.photoIds.filter(p => !ok.has(p))
        if (stray.length) throw new HttpError(400, `photos ${stray.join(', ')} are not of premises in this key area`, 'photo-not-of-subject', `照片 ${stray.join('、')} 不是该重点地区内房屋的照片`)
      }
      const [row] = await tx<{ id: number }[]>`
        insert into key_area_acceptance (key_area_id, submitted_by, open_hazards, checklist, note, photo_ids, documents)
        values (${id}, ${byId}, 0, ${tx.json(input.checklist)}, ${input.note}, ${tx.array(input.photoIds)}::bigint[], ${tx.array(input.documents)}::text[])
        on conflict do nothing
        returning id`
      if (!row) throw new HttpError(409, `key area ${id} is awaiting a decision on its last submission`, 'acceptance-pending', `重点地区 ${id} 的上一次验收申请尚待决定`)
      const [created] = await tx<AcceptanceRow[]>`${select(tx)} where a.id = ${row.id}`
      return dto(created!)
    },

    async decide(tx: Tx, viewer: KeyAreaViewer, byId: number, acceptanceId: number, decision: 'accepted' | 'returned', reasons: string | null) {
      const [a] = await tx<AcceptanceRow[]>`${select(tx)} where a.id = ${acceptanceId} for update of a`
      if (!a) throw notFound(`there is no acceptance submission with id ${acceptanceId}`, `没有编号为 ${acceptanceId} 的验收申请`)
      const k = await keyArea(tx, viewer, a.keyAreaId, true)
      if (a.decision) throw new HttpError(409, `this submission was ${a.decision} already`, 'acceptance-decided', '该验收申请已有结论')
      if (a.submittedById === byId) throw new HttpError(409, 'a submission is decided by another commander than the one who submitted it', 'own-submission', '验收申请须由提交人以外的指挥长决定')
      if (decision === 'returned' && (!reasons || reasons.length < 4)) throw new HttpError(400, 'say why it is returned (at least 4 characters)', 'reasons-required', '退回须写明理由（至少 4 个字）')
      if (decision === 'accepted' && k.openHazards > 0) throw new HttpError(409, `${k.openHazards} hazards were found open in the key area since it was submitted: return it`, 'key-area-hazards-open', `提交后重点地区内又有 ${k.openHazards} 处隐患未整改：请退回`)
      await tx`update key_area_acceptance set decision = ${decision}, reasons = ${reasons}, decided_by = ${byId}, decided_at = now() where id = ${acceptanceId}`
      if (decision === 'accepted') await tx`update key_area set status = 'delisted', updated_at = now() where id = ${a.keyAreaId}`
      const [after] = await tx<AcceptanceRow[]>`${select(tx)} where a.id = ${acceptanceId}`
      return dto(after!)
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    acceptance: ReturnType<typeof acceptanceRepository>
  }
}

export default fp(async (app) => {
  app.decorate('acceptance', acceptanceRepository(app.db.sql))
}, { name: 'acceptance', dependencies: ['db'] })
