import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Features, scoreOf } from '../../server/domain/leads-model.js'
import { leadsRepository } from '../../server/plugins/app/leads.js'
import { seedDemoLeads } from '../../server/seed/readings.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'

/**
 * A refresh writes each lead once, with its signals, its norms and its score together, and only
 * when one of them changed (issue 16 at a million premises). What it writes is checked against a
 * recomputation: the scores from the features each lead keeps, the norms from every candidate's
 * signals, and a refresh of leads blanked beforehand.
 */

let t: TestApp

interface Lead { id: number; townId: number; communityId: number | null; features: Record<string, number | string>; score: number; band: string; reasons: unknown[]; modelVersion: number }

const candidates = async () => [...await t.db.owner<Lead[]>`
  select id, town_id, community_id, features, score, band, reasons, model_version from lead where candidate order by id`]
/** Each lead's row version: a row written anew has another. */
const versions = async (table: 'lead' | 'meter_stat') => (await t.db.owner<{ x: string }[]>`
  select coalesce(string_agg(xmin::text, ',' order by ${t.db.owner(table === 'lead' ? 'id' : 'account_id')}), '') as x from ${t.db.owner(table)}`)[0]!.x
const vacuums = async () => Number((await t.db.owner<{ n: string }[]>`
  select vacuum_count as n from pg_stat_user_tables where relname = 'lead'`)[0]!.n)

beforeAll(async () => {
  t = await buildTestApp()
  await seedDemoLeads(t.db.sql, { seed: 42 })
}, 120_000)
afterAll(() => t?.close())

/** The median as percentile_cont(0.5) takes it: the middle value, or the mean of the two middle ones. */
function median(xs: number[]): number | null {
  if (!xs.length) return null
  const s = [...xs].sort((a, b) => a - b)
  const m = (s.length - 1) / 2
  return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2
}

describe('a refresh of the leads', () => {
  it('scores every candidate with the model in force from the signals and norms it keeps', async () => {
    const model = await t.app.leads.activeModel()
    const leads = await candidates()
    expect(leads.length).toBeGreaterThan(100)
    for (const l of leads) {
      const s = scoreOf(model, l.features as Features)
      expect({ id: l.id, score: l.score, band: l.band, reasons: l.reasons, model: l.modelVersion })
        .toEqual({ id: l.id, score: s.score, band: s.band, reasons: s.reasons, model: model.version })
    }
  })

  it('compares every candidate\'s use with the median of its community and size, or the wider area\'s where fewer than eight have one', async () => {
    const leads = await candidates()
    const levels: [string, (l: Lead) => string][] = [
      ['community_size', l => `${l.communityId}/${l.features.size}`],
      ['town_size', l => `${l.townId}/${l.features.size}`],
      ['community', l => `${l.communityId}`],
      ['town', l => `${l.townId}`],
      ['district', () => ''],
    ]
    let compared = 0
    for (const [use, mean] of [['elec', 'elecMean'], ['water', 'waterMean'], ['gas', 'gasMean']] as const) {
      const groups = levels.map(([, key]) => {
        const g = new Map<string, number[]>()
        for (const l of leads) {
          const v = l.features[mean]
          if (typeof v === 'number' && v > 0) g.set(key(l), [...g.get(key(l)) ?? [], v])
        }
        return g
      })
      for (const l of leads) {
        const samples = levels.map(([, key], i) => groups[i]!.get(key(l)) ?? [])
        const level = samples.findIndex((xs, i) => xs.length >= 8 || i === levels.length - 1)
        const norm = median(samples[level]!)
        const value = l.features[mean]
        const expected = {
          norm: norm === null ? undefined : Math.round(norm * 1000) / 1000,
          vsNorm: norm === null || !norm || typeof value !== 'number' ? undefined : Math.round((value / norm) * 1000) / 1000,
        }
        const kept = { norm: l.features[`${use}Norm`], vsNorm: l.features[`${use}VsNorm`] }
        expect(kept.norm === undefined, `lead ${l.id} ${use}Norm`).toBe(expected.norm === undefined)
        expect(kept.vsNorm === undefined, `lead ${l.id} ${use}VsNorm`).toBe(expected.vsNorm === undefined)
        if (expected.norm !== undefined) expect(Math.abs(Number(kept.norm) - expected.norm), `lead ${l.id} ${use}Norm`).toBeLessThanOrEqual(0.0011)
        if (expected.vsNorm !== undefined) {
          expect(Math.abs(Number(kept.vsNorm) - expected.vsNorm), `lead ${l.id} ${use}VsNorm`).toBeLessThanOrEqual(0.0011)
          compared++
        }
      }
    }
    expect(compared).toBeGreaterThan(100)
  })

  it('gives every lead the same signals, norms, score and reasons when every lead was blanked before it', async () => {
    const before = await candidates()
    await t.db.owner`update lead set features = '{}', score = 0, band = 'D', reasons = '[]' where candidate`
    await t.db.owner`delete from lead_norm`
    await t.app.leads.refresh()
    expect(await candidates()).toEqual(before)
  })

  it('writes no lead and no account\'s statistics when it finds nothing changed', async () => {
    await t.app.leads.refresh()
    const [leads, stats] = [await versions('lead'), await versions('meter_stat')]
    expect(stats).not.toBe('')
    const summary = await t.app.leads.refresh()
    expect(summary.scored).toBeGreaterThan(100)
    expect(await versions('lead')).toBe(leads)
    expect(await versions('meter_stat')).toBe(stats)
  })

  it('writes the lead of a premises whose rooms changed, with its new size', async () => {
    const [l] = await t.db.owner<{ id: number; premisesId: number; size: string }[]>`
      select l.id, l.premises_id, l.features->>'size' as size from lead l join premises p on p.id = l.premises_id
      where l.candidate and p.kind = 'rental' and p.rooms_let between 1 and 2 order by l.id limit 1`
    expect(l!.size).toBe('S')
    const version = async () => (await t.db.owner<{ x: string }[]>`select xmin::text as x from lead where id = ${l!.id}`)[0]!.x
    const before = await version()
    await t.db.owner`update premises set rooms_let = 4 where id = ${l!.premisesId}`
    await t.app.leads.refresh()
    expect(await version()).not.toBe(before)
    const [after] = await t.db.owner<{ size: string }[]>`select features->>'size' as size from lead where id = ${l!.id}`
    expect(after!.size).toBe('M')
  })

  it('leaves the leads vacuumed, every page all-visible, when its role owns them', async () => {
    await t.db.owner`update lead set score = 0 where candidate`
    const count = await vacuums()
    await leadsRepository(t.db.owner).refresh()
    expect(await vacuums()).toBe(count + 1)
    const [c] = await t.db.owner<{ pages: number; visible: number }[]>`select relpages as pages, relallvisible as visible from pg_class where oid = 'lead'::regclass`
    expect(c!.pages).toBeGreaterThan(0)
    expect(c!.visible).toBe(c!.pages)
  })
})
