import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { today as todayInDistrict } from '../../domain/calendar.js'
import type { MeasureKey } from '../../domain/lists.js'
import { type FiguresCache, figuresCache } from './figures-cache.js'

export interface Campaign {
  id: number
  code: string
  nameZh: string
  nameEn: string
  startsOn: string
  endsOn: string
  reportDays: number[]
  /** A rectification is verified only with an "after" photo of it. */
  verifyNeedsPhoto: boolean
  /** How the tables count 关注对象: with the mentally ill (the notice's note 3) or apart from them. */
  concernIncludesMentalIllness: boolean
  phases: { seq: number; code: string; nameZh: string; nameEn: string; startsOn: string; endsOn: string }[]
  targets: Partial<Record<MeasureKey, number | null>>
}

/**
 * The campaigns. With a `cache`, the current campaign is read once per change of its tables (which
 * change every town's figures, figures_change): every map request, tile and figure asks for it, and
 * three queries each were most of what a cached tile cost the pool; read again after every
 * inspector's write, every request meanwhile waited for them.
 */
export function campaignRepository(sql: Sql, opts: { cache?: FiguresCache } = {}) {
  return {
    /** The campaign under way, or the latest one. */
    current(db: Sql | Tx = sql): Promise<Campaign> {
      return opts.cache && db === sql ? opts.cache.get('campaign', () => currentCampaign(db), opts.cache.inTowns([])) : currentCampaign(db)
    },

    /**
     * The day screens show by default: today while the campaign runs, its last day once it is over
     * (and its first day before it starts), so that a finished campaign is shown as it ended.
     */
    referenceDate(c: Pick<Campaign, 'startsOn' | 'endsOn'>, today = todayInDistrict()): string {
      if (today > c.endsOn) return c.endsOn
      if (today < c.startsOn) return c.startsOn
      return today
    },
  }
}

/** The campaign under way, or the latest one, as the database holds it now. */
async function currentCampaign(db: Sql | Tx): Promise<Campaign> {
  const [c] = await db<Omit<Campaign, 'phases' | 'targets'>[]>`
    select id, code, name_zh, name_en, starts_on, ends_on, report_days::int[] as report_days, verify_needs_photo, concern_includes_mental_illness
    from campaign order by starts_on desc limit 1`
  if (!c) throw new Error('no campaign is defined')
  const phases = await db<Campaign['phases']>`
    select seq, code, name_zh, name_en, starts_on, ends_on from campaign_phase where campaign_id = ${c.id} order by seq`
  const targets = await db<{ measure: MeasureKey; target: number | null }[]>`
    select measure, target::float8 as target from campaign_target where campaign_id = ${c.id}`
  return { ...c, phases: [...phases], targets: Object.fromEntries(targets.map(t => [t.measure, t.target])) }
}

export type CampaignRepository = ReturnType<typeof campaignRepository>

declare module 'fastify' {
  interface FastifyInstance {
    campaign: CampaignRepository
  }
}

export default fp(async (app) => {
  app.decorate('campaign', campaignRepository(app.db.sql, { cache: figuresCache(app.versions, 4) }))
}, { name: 'campaign', dependencies: ['db', 'versions'] })
