import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedDemo } from '../../server/seed/demo.js'
import { hiddenTruth, seedDemoLeads } from '../../server/seed/readings.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { testKeys } from '../helpers/keys.js'

/**
 * How good the leads are on the demo district, judged against the generator's truth (which the
 * model never sees). The thresholds, and why:
 * - precision of the top 200 ≥ 0.75: the Jiangsu grid company's leads were confirmed about 55% of
 *   the time; ours must do clearly better, on data as noisy as the generator makes it, while the
 *   base rate (a candidate drawn at random) is about one in seven (the demo gives 0.855);
 * - recall within two leads per hidden group rental ≥ 0.9: a district that visits twice as many
 *   leads as there are hidden group rentals finds nearly all of them, which is what the 100%
 *   discovery target needs from the data (door-to-door visits find the rest; the demo gives 1.0);
 * - a hidden one ranks above an ordinary candidate: AUC ≥ 0.9 (the demo gives 0.98).
 * The demo is deterministic from its seed, so these figures do not drift between runs; a change
 * to the signals or the rules that costs more than the margins fails here.
 */

const seed = 20191227
const premises = 3500
let t: TestApp
let ranked: { premisesId: number | null; accounts: string[]; score: number }[] = []
let truth: { premises: Set<number>; siteAccounts: Set<string> }

const isHidden = (l: { premisesId: number | null; accounts: string[] }) =>
  l.premisesId !== null ? truth.premises.has(l.premisesId) : l.accounts.some(a => truth.siteAccounts.has(a))

beforeAll(async () => {
  t = await buildTestApp({ template: 'migrated' })
  // Hazards play no part in the leads: few of them keep the seed quick.
  await seedDemo(t.db.owner, { premises, seed, keys: testKeys, batch: 2000, hazardScale: 0.05 })
  await seedDemoLeads(t.db.owner, { seed })
  truth = await hiddenTruth(t.db.sql, seed)
  ranked = [...await t.db.sql<{ premisesId: number | null; accounts: string[]; score: number }[]>`
    select l.premises_id, l.score, coalesce((select array_agg(a.account_no) from meter_account a where a.site_key = l.site_key), '{}') as accounts
    from lead l where l.candidate order by l.score desc, l.id`]
  // About 10 s on PostgreSQL and 30 s embedded on their own; a machine busy with other suites may take several times that.
}, 240_000)
afterAll(() => t.close())

describe('the leads on the demo district', () => {
  it('has more hidden group rentals than the top 200, about one candidate in seven', () => {
    const hidden = ranked.filter(isHidden).length
    expect(hidden).toBeGreaterThan(200)
    expect(hidden / ranked.length).toBeGreaterThan(0.08)
    expect(hidden / ranked.length).toBeLessThan(0.25)
  })

  it('confirms at least 75% of the top 200 leads (Jiangsu: about 55%)', () => {
    const hits = ranked.slice(0, 200).filter(isHidden).length
    expect(hits / 200).toBeGreaterThanOrEqual(0.75)
  })

  it('finds at least 90% of the hidden group rentals within two leads per hidden one', () => {
    const hidden = ranked.filter(isHidden).length
    const found = ranked.slice(0, 2 * hidden).filter(isHidden).length
    expect(found / hidden).toBeGreaterThanOrEqual(0.9)
  })

  it('ranks a hidden group rental above an ordinary candidate at least 90% of the time (AUC)', () => {
    let positivesSeen = 0
    let wins = 0
    let negatives = 0
    // Walking down the ranking: each negative is beaten by every positive seen before it.
    for (const l of ranked) {
      if (isHidden(l)) positivesSeen++
      else {
        negatives++
        wins += positivesSeen
      }
    }
    expect(wins / (positivesSeen * negatives)).toBeGreaterThanOrEqual(0.9)
  })
})
