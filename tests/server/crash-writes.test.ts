import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgArray } from '../../server/db/arrays.js'
import { serverDatabase, signInOver } from '../helpers/server-process.js'

// The real server in a process of its own, killed with SIGKILL while users' writes are under way.
let server: Awaited<ReturnType<typeof serverDatabase>>
beforeAll(async () => {
  server = await serverDatabase()
})
afterAll(() => server?.drop())

const writers = 4

describe('ordinary writes cut off by kill -9', () => {
  // The real server started twice as a process of its own and the database opened twice beside it:
  // past a minute on a machine busy with other tests (the embedded half of a local run).
  it('keep every write that was acknowledged, whole, and nothing half-written', async () => {
    let db = await server.open()
    const targets = (await db.sql<{ id: number }[]>`select id from premises order by id limit ${writers}`).map(r => r.id)
    const [{ maxHazard, maxAudit }] = await db.sql<{ maxHazard: number; maxAudit: number }[]>`
      select (select coalesce(max(id), 0)::int from hazard) as max_hazard, (select coalesce(max(id), 0)::int from audit_log) as max_audit` as unknown as [{ maxHazard: number; maxAudit: number }]
    await db.close()

    const s = await server.start()
    const cookie = await signInOver(s.base, 'bureau')
    const hazardsAcked: number[] = []
    const occupantsAcked = new Map<number, number>()
    let stop = false
    // Each writer records hazards at its premises and changes its occupants, one request after another.
    const loops = targets.map(async (premisesId, w) => {
      for (let i = 1; !stop; i++) {
        try {
          const h = await fetch(`${s.base}/api/premises/${premisesId}/hazards`, {
            method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ itemCode: w % 2 ? 'FIRE-06' : 'PS-01', severity: i % 3 ? 'general' : 'major' }),
          })
          if (h.status === 201) hazardsAcked.push(((await h.json()) as { id: number }).id)
          const p = await fetch(`${s.base}/api/premises/${premisesId}`, {
            method: 'PATCH', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ occupants: 100 + i }),
          })
          if (p.status === 200) occupantsAcked.set(premisesId, 100 + i)
        }
        catch {
          // The server is gone: this request was never acknowledged.
          return
        }
      }
    })
    // Killed while the writers are busy, once each has had a few writes acknowledged.
    while (hazardsAcked.length < writers * 3) await new Promise(r => setTimeout(r, 20))
    await new Promise(r => setTimeout(r, 150))
    await s.kill()
    stop = true
    await Promise.all(loops)
    expect(hazardsAcked.length).toBeGreaterThanOrEqual(writers * 3)

    // The server comes back after the kill, and answers.
    const again = await server.start()
    const me = await fetch(`${again.base}/api/auth/me`, { headers: { cookie: await signInOver(again.base, 'bureau') } })
    expect(me.status).toBe(200)
    await again.kill()

    db = await server.open()
    // Every hazard written since the start, acknowledged or not: with its first step in the history
    // and its audit row, or not there at all.
    const hazards = await db.sql<{ id: number; found: number; audit: number }[]>`
      select h.id, (select count(*)::int from hazard_event e where e.hazard_id = h.id and e.status = 'found') as found,
             (select count(*)::int from audit_log a where a.action = 'hazard.create' and a.entity_id = h.id::text) as audit
      from hazard h where h.id > ${maxHazard} order by h.id`
    expect(hazards.filter(h => h.found !== 1 || h.audit !== 1)).toEqual([])
    const stored = new Set(hazards.map(h => h.id))
    expect(hazardsAcked.filter(id => !stored.has(id))).toEqual([])
    // Every acknowledged change of occupants is there (or a later one that got through), with its audit row.
    const premises = await db.sql<{ id: number; occupants: number; audits: number }[]>`
      select p.id, p.occupants, (select count(*)::int from audit_log a where a.id > ${maxAudit} and a.action = 'premises.update' and a.entity_id = p.id::text) as audits
      from premises p where p.id = any(${pgArray(targets)}::bigint[])`
    for (const p of premises) {
      const acked = occupantsAcked.get(p.id)
      if (acked === undefined) continue
      expect(p.occupants).toBeGreaterThanOrEqual(acked)
      expect(p.audits).toBeGreaterThanOrEqual(acked - 100)
    }
    // What the triggers keep moved with each write: the premises' hazard summaries match their hazards.
    const summaries = await db.sql<{ id: number; hazardCount: number; counted: number }[]>`
      select p.id, p.hazard_count, (select count(*)::int from hazard h where h.premises_id = p.id) as counted from premises p where p.id = any(${pgArray(targets)}::bigint[])`
    expect(summaries.filter(p => p.hazardCount !== p.counted)).toEqual([])
    await db.close()
  }, 150_000)
})
