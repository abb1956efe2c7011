import type { FastifyInstance } from 'fastify'
import { badRequest, HttpError, parseBbox, parseDate, parseIdList } from '../../lib/http-errors.js'
import { type ShapeProblem, shapeFromParam, shapeMaxCorners, shapeWkt } from '../../domain/drawn-shape.js'
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
      withinWkt: q.within === undefined ? undefined : parseWithin(q.within),
    },
  }
}

const shapeProblems: Record<ShapeProblem, [string, string]> = {
  'not-numbers': ['within must be numbers in lon,lat pairs', '所画范围（within）应为成对的经度,纬度数字'],
  'too-few': ['within must have at least 3 corners that enclose an area', '所画范围（within）至少要有 3 个围出面积的顶点'],
  'too-many': [`within may have at most ${shapeMaxCorners} corners`, `所画范围（within）最多 ${shapeMaxCorners} 个顶点`],
  'off-earth': ['within must lie within -180..180 longitude and -90..90 latitude', '所画范围（within）须在经度 -180～180、纬度 -90～90 之内'],
  'self-crossing': ['within crosses or touches itself: draw a shape whose edges do not meet', '所画范围（within）的边线自相交或相接，请重新画一个边线互不相交的范围'],
}

/** The drawn shape as well-known text, or a 400 that says what is wrong with it (reason `invalid-shape`). */
function parseWithin(value: string): string {
  const parsed = shapeFromParam(value)
  if ('problem' in parsed) {
    const [en, zh] = shapeProblems[parsed.problem]
    throw new HttpError(400, en, 'invalid-shape', zh)
  }
  return shapeWkt(parsed.corners)
}
