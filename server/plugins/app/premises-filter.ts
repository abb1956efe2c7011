import type { FastifyInstance } from 'fastify'
import { badRequest, parseBbox, parseDate, parseIdList } from '../../lib/http-errors.js'
import type { HazardCategory, HazardStatus, PremisesKind } from '../../domain/lists.js'
import type { PremisesFilter } from './premises.js'
import type { MapFilterQuery } from '../../schemas/premises.js'

/**
 * Turns the map's query parameters (already shape-checked by the schema) into a filter and the day
 * the status is judged on; refuses days that do not exist and ranges the wrong way round.
 */
export async function mapFilterFrom(app: FastifyInstance, q: MapFilterQuery & { bbox?: string }): Promise<{ filter: PremisesFilter; on: string }> {
  const campaign = await app.campaign.current()
  const on = q.asOf ? parseDate(q.asOf, 'asOf') : app.campaign.referenceDate(campaign)
  const foundFrom = q.foundFrom ? parseDate(q.foundFrom, 'foundFrom') : undefined
  const foundTo = q.foundTo ? parseDate(q.foundTo, 'foundTo') : undefined
  if (foundFrom && foundTo && foundFrom > foundTo) throw badRequest(`foundFrom (${foundFrom}) is after foundTo (${foundTo})`, `发现日期起（${foundFrom}）晚于止（${foundTo}）`)
  return {
    on,
    filter: {
      bbox: q.bbox ? parseBbox(q.bbox) : undefined,
      kinds: q.kind?.split(',') as PremisesKind[] | undefined,
      statuses: q.status?.split(',') as HazardStatus[] | undefined,
      categories: q.category?.split(',') as HazardCategory[] | undefined,
      towns: parseIdList(q.town, 'town'),
      communities: parseIdList(q.community, 'community'),
      policeStations: parseIdList(q.policeStation, 'policeStation'),
      majorOnly: q.major,
      overdueOnly: q.overdue,
      foundFrom,
      foundTo,
    },
  }
}
