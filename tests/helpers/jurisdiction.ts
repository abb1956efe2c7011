import { randomUUID } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { PendingQuery, Row } from 'postgres'
import { expect } from 'vitest'
import { can, type Permission, type Role } from '../../server/domain/access.js'
import { acceptanceChecklist } from '../../server/domain/lists.js'
import { decryptIdNumber } from '../../server/domain/pii.js'
import type { RouteInfo } from '../../server/plugins/app/access.js'
import { signIn, type TestApp } from './app.js'
import { testKeys } from './keys.js'
import { insertAfterPhoto, insertPhoto, tinyJpeg } from './photos.js'
import { clearTasks, dayFromToday, districtInspector, insertTask, userId } from './tasks.js'
import { decodeTile, tileOf } from './tiles.js'

/**
 * The jurisdiction matrix: for a town user and a police-station user (commander and inspector
 * each), every route of the application that takes an id, a place or an area is called with a
 * record inside the user's jurisdiction and one outside it. Inside answers normally; outside, a
 * record does not exist (404) and an area holds nothing. A district-wide commander calls the same
 * outside samples and must find them, so a 404 can never come from a sample that names nothing.
 */

/** Records on one side of a jurisdiction's border, chosen well away from it. */
export interface Target {
  premises: number
  /** The premises' address (the search finds it by it). */
  address: string
  resident: number
  /** The resident's full ID number, for the search by number. */
  idNumber: string
  keyArea: number
  /** A point inside the key area. */
  keyAreaPoint: [number, number]
  lon: number
  lat: number
  /** The premises' town and police station (a key area made here belongs to them). */
  town: number
  station: number
  /** A town whose attachment 3 lies on this side. */
  reportTown: number
  /** The map's filter that selects this side. */
  filter: Record<string, string>
}

export interface Side {
  name: 'town' | 'police-station'
  /** The user name of each tested role on this side. */
  users: Partial<Record<Role, string>>
  inside: Target
  outside: Target
}

/** A piece of SQL made with the tagged template, to be put into another query. */
type Fragment = PendingQuery<Row[]>

export interface Sample { url: string; method?: string; payload?: unknown; headers?: Record<string, string> }

type Res = LightMyRequestResponse

/**
 * How to call a route with a target. 'record' routes name the record (outside: 404); 'answer'
 * routes take a place, an area or a filter and are judged by whether their answer holds the
 * target (outside: it must not; a write there must be refused).
 */
export interface Probe {
  kind: 'record' | 'answer'
  /** Told apart when a route has several probes. */
  label?: string
  /** A request about target t by a user of the given side. */
  request: (t: Target, s: Scene, side: Side) => Sample | Promise<Sample>
  /** For 'answer' probes: whether the answer holds the target. */
  holds?: (res: Res, t: Target) => boolean
  /** An 'answer' probe that creates or moves something: outside, it must be refused. */
  write?: boolean
  /** The sides the probe applies to (default both), when the other side is tested on its own. */
  sides?: Side['name'][]
}

export interface Scene {
  t: TestApp
  town: Side
  station: Side
  cookies: Record<string, string>
  /** A hazard made for one call, in the given state, at the target's premises. */
  freshHazard: (t: Target, state: 'found' | 'rectified') => Promise<number>
  /** A key area (version 1) made for one call, in the target's town and police station, around its premises. */
  freshKeyArea: (t: Target) => Promise<number>
  /** Premises made for one call, inside the given side. */
  freshPremises: (t: Target) => Promise<number>
}

/** The control: a district-wide commander, who sees both sides. */
export const controlUser = 'bureau'

const square = (lon: number, lat: number, r: number) => ({
  type: 'Polygon',
  coordinates: [[[lon - r, lat - r], [lon + r, lat - r], [lon + r, lat + r], [lon - r, lat + r], [lon - r, lat - r]]],
})
const bbox = (t: Target, r = 0.0005) => [t.lon - r, t.lat - r, t.lon + r, t.lat + r].join(',')
const query = (o: Record<string, string | number>) => new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)])).toString()
const json = <T>(res: Res) => res.json() as T
const featureIds = (res: Res) => json<{ features: { id?: number; properties?: { id?: number } }[] }>(res).features.map(f => f.id ?? f.properties?.id)
const countsHold = (c: Record<string, number>) => Object.values(c).some(v => v > 0)
/** A point a little way from the target's premises, still on its side. */
const near = (t: Target) => ({ lon: t.lon + 0.0002, lat: t.lat + 0.0001, crs: 'wgs84' })
let serial = 0

/** A major hazard at the target's premises, open or rectified (with its photo), listed for supervision when asked. */
async function supervised(s: Scene, t: Target, o: { rectified?: boolean; listed?: boolean }): Promise<{ hazard: number; item: number; photo: number }> {
  const sql = s.t.db.sql
  const [h] = await sql<{ id: number }[]>`
    insert into hazard (premises_id, item_code, severity, status, department_code, found_at, rectified_at, deadline)
    values (${t.premises}, 'FIRE-06', 'major', ${o.rectified ? 'rectified' : 'found'}, 'fire', now() - interval '2 days', ${o.rectified ? sql`now()` : null}, current_date + 10)
    returning id`
  const photo = await insertPhoto(sql, { hazardId: h!.id, stage: 'rectified' })
  if (!o.listed) return { hazard: h!.id, item: 0, photo }
  const [i] = await sql<{ id: number }[]>`
    insert into supervision_item (campaign_id, kind, hazard_id, premises_id, town_id, police_station_id, unit_kind, unit_department, responsible_person, reason, deadline, listed_on, listed_by)
    select (select id from campaign limit 1), 'hazard', ${h!.id}, p.id, p.town_id, p.police_station_id, 'department', 'fire', '辖区矩阵', '辖区矩阵', current_date, current_date, (select id from app_user where username = 'commander')
    from premises p where p.id = ${t.premises}
    returning id`
  return { hazard: h!.id, item: i!.id, photo }
}

/** A revisit sample of one record at the target's premises (a rectified hazard there). */
async function revisitAt(s: Scene, t: Target): Promise<{ sample: number; item: number }> {
  const sql = s.t.db.sql
  const hazard = await s.freshHazard(t, 'rectified')
  const [sm] = await sql<{ id: number }[]>`
    insert into revisit_sample (campaign_id, subject, size, population, seed, drawn_on, drawn_by)
    values ((select id from campaign limit 1), 'hazard', 1, 1, 'probe', '2020-06-01', (select id from app_user where username = 'commander')) returning id`
  const [it] = await sql<{ id: number }[]>`
    insert into revisit_item (sample_id, hazard_id, premises_id, town_id, police_station_id, department_code)
    select ${sm!.id}, ${hazard}, p.id, p.town_id, p.police_station_id, 'fire' from premises p where p.id = ${t.premises} returning id`
  return { sample: sm!.id, item: it!.id }
}

/** A listed key area at the target (its town and police station) holding no premises, submitted for acceptance by the administrator when asked. */
async function emptyKeyAreaAt(s: Scene, t: Target, submitted = false): Promise<{ keyArea: number; acceptance: number }> {
  const sql = s.t.db.sql
  const [k] = await sql<{ id: number }[]>`
    insert into key_area (campaign_id, name_zh, town_id, police_station_id, status, listed_on, geom)
    select (select id from campaign limit 1), '验收辖区矩阵', ${t.town}, ${t.station}, 'listed', '2020-03-01',
           st_multi(st_buffer(st_setsrid(st_makepoint(${t.lon + 0.0002}, ${t.lat + 0.0001}), 4326), 0.00001))
    returning id`
  if (!submitted) return { keyArea: k!.id, acceptance: 0 }
  const [a] = await sql<{ id: number }[]>`
    insert into key_area_acceptance (key_area_id, submitted_by, open_hazards, checklist)
    values (${k!.id}, (select id from app_user where username = 'admin'), 0, '{}') returning id`
  return { keyArea: k!.id, acceptance: a!.id }
}

/**
 * Every route that takes an id, a place or an area, by "METHOD url" of the route table; a route
 * with several ways of naming where has several probes.
 */
export const probes: Record<string, Probe[]> = {
  'GET /api/acceptance/key-areas/:id': [{ kind: 'record', request: async (t, s) => ({ url: `/api/acceptance/key-areas/${(await emptyKeyAreaAt(s, t)).keyArea}` }) }],
  'POST /api/acceptance/key-areas/:id': [{
    kind: 'record',
    request: async (t, s) => ({ method: 'POST', url: `/api/acceptance/key-areas/${(await emptyKeyAreaAt(s, t)).keyArea}`, payload: { checklist: Object.fromEntries(acceptanceChecklist.map(c => [c, true])) } }),
  }],
  'POST /api/acceptance/:id/decision': [{
    kind: 'record',
    request: async (t, s) => ({ method: 'POST', url: `/api/acceptance/${(await emptyKeyAreaAt(s, t, true)).acceptance}/decision`, payload: { decision: 'accepted' } }),
  }],
  'GET /api/revisits/samples/:id': [{ kind: 'record', request: async (t, s) => ({ url: `/api/revisits/samples/${(await revisitAt(s, t)).sample}` }) }],
  'POST /api/revisits/items/:id/outcome': [{ kind: 'record', request: async (t, s) => ({ method: 'POST', url: `/api/revisits/items/${(await revisitAt(s, t)).item}/outcome`, payload: { outcome: 'still_rectified' } }) }],
  // A town names where: a town user draws in their own and not in another. A police station's area
  // cuts across towns, so the town of a record outside it may still hold records inside it.
  'POST /api/revisits/samples': [{
    kind: 'answer', write: true, sides: ['town'],
    request: t => ({ method: 'POST', url: '/api/revisits/samples', payload: { subject: 'hazard', townId: t.town, size: 1, seed: `probe-${++serial}` } }),
    holds: res => res.statusCode === 201,
  }],
  'GET /api/supervision/items/:id': [{ kind: 'record', request: async (t, s) => ({ url: `/api/supervision/items/${(await supervised(s, t, { listed: true })).item}` }) }],
  'POST /api/supervision/items/:id/close': [{
    kind: 'record',
    request: async (t, s) => {
      const x = await supervised(s, t, { listed: true, rectified: true })
      return { method: 'POST', url: `/api/supervision/items/${x.item}/close`, payload: { note: '辖区矩阵销号', photoIds: [x.photo] } }
    },
  }],
  'POST /api/supervision/items': [{
    kind: 'record',
    request: async (t, s) => ({
      method: 'POST', url: '/api/supervision/items',
      payload: { kind: 'hazard', hazardId: (await supervised(s, t, {})).hazard, unit: { kind: 'department', code: 'fire' }, responsiblePerson: '辖区矩阵', reason: '辖区矩阵', deadline: dayFromToday(10) },
    }),
  }],
  'GET /api/premises/:id': [{ kind: 'record', request: t => ({ url: `/api/premises/${t.premises}` }) }],
  'GET /api/premises/:id/residents': [{ kind: 'record', request: t => ({ url: `/api/premises/${t.premises}/residents` }) }],
  'GET /api/premises/:id/hazards': [{ kind: 'record', request: t => ({ url: `/api/premises/${t.premises}/hazards` }) }],
  'GET /api/premises/:id/enforcement': [{ kind: 'record', request: t => ({ url: `/api/premises/${t.premises}/enforcement` }) }],
  'PATCH /api/premises/:id': [
    { kind: 'record', request: t => ({ method: 'PATCH', url: `/api/premises/${t.premises}`, payload: { occupants: 7 } }) },
    {
      kind: 'answer', label: 'moved to the target', write: true,
      request: async (t, s, side) => ({ method: 'PATCH', url: `/api/premises/${await s.freshPremises(side.inside)}`, payload: { location: near(t) } }),
      holds: res => res.statusCode === 200,
    },
  ],
  'POST /api/premises/:id/hazards': [{ kind: 'record', request: t => ({ method: 'POST', url: `/api/premises/${t.premises}/hazards`, payload: { itemCode: 'FIRE-07', severity: 'general' } }) }],
  'POST /api/premises': [{
    kind: 'answer', write: true,
    request: t => ({ method: 'POST', url: '/api/premises', payload: { kind: 'rental', address: `辖区矩阵路${++serial}号`, location: near(t), occupants: 3, foundOn: '2020-06-01' } }),
    holds: res => res.statusCode === 201,
  }],
  'POST /api/hazards/:id/refer': [{ kind: 'record', request: async (t, s) => ({ method: 'POST', url: `/api/hazards/${await s.freshHazard(t, 'found')}/refer`, payload: {} }) }],
  'POST /api/hazards/:id/rectify': [{ kind: 'record', request: async (t, s) => ({ method: 'POST', url: `/api/hazards/${await s.freshHazard(t, 'found')}/rectify`, payload: {} }) }],
  'POST /api/hazards/:id/verify': [{ kind: 'record', request: async (t, s) => ({ method: 'POST', url: `/api/hazards/${await s.freshHazard(t, 'rectified')}/verify`, payload: {} }) }],
  'PATCH /api/hazards/:id': [{ kind: 'record', request: async (t, s) => ({ method: 'PATCH', url: `/api/hazards/${await s.freshHazard(t, 'found')}`, payload: { deadline: '2099-01-31' } }) }],
  'POST /api/residents/:id/reveal': [{ kind: 'record', request: t => ({ method: 'POST', url: `/api/residents/${t.resident}/reveal`, payload: { reason: 'jurisdiction matrix' } }) }],
  'POST /api/residents/search': [{
    kind: 'answer',
    request: t => ({ method: 'POST', url: '/api/residents/search', payload: { idNumber: t.idNumber } }),
    holds: (res, t) => json<{ id: number }[]>(res).some(r => r.id === t.resident),
  }],
  'GET /api/key-areas/:id': [{ kind: 'record', request: t => ({ url: `/api/key-areas/${t.keyArea}` }) }],
  'GET /api/key-areas/:id/versions': [{ kind: 'record', request: t => ({ url: `/api/key-areas/${t.keyArea}/versions` }) }],
  'PUT /api/key-areas/:id': [{
    kind: 'record',
    request: async (t, s) => ({
      method: 'PUT', url: `/api/key-areas/${await s.freshKeyArea(t)}?clip=true`, headers: { 'if-match': '"1"' },
      payload: { type: 'Feature', geometry: square(t.lon, t.lat, 0.001), properties: { nameZh: '辖区矩阵（改）', listedOn: '2020-03-01', townId: t.town, policeStationId: t.station } },
    }),
  }, {
    kind: 'answer', label: 'moved to the target', write: true,
    request: async (t, s, side) => ({
      method: 'PUT', url: `/api/key-areas/${await s.freshKeyArea(side.inside)}?clip=true`, headers: { 'if-match': '"1"' },
      payload: { type: 'Feature', geometry: square(t.lon, t.lat, 0.001), properties: { nameZh: '辖区矩阵（移）', listedOn: '2020-03-01', townId: t.town, policeStationId: t.station } },
    }),
    holds: res => res.statusCode === 200,
  }],
  'DELETE /api/key-areas/:id': [{ kind: 'record', request: async (t, s) => ({ method: 'DELETE', url: `/api/key-areas/${await s.freshKeyArea(t)}`, headers: { 'if-match': '"1"' } }) }],
  'POST /api/key-areas': [{
    kind: 'answer', write: true,
    request: t => ({
      method: 'POST', url: '/api/key-areas?clip=true',
      payload: { type: 'Feature', geometry: square(t.lon, t.lat, 0.001), properties: { nameZh: `辖区矩阵${++serial}`, listedOn: '2020-03-01', townId: t.town, policeStationId: t.station } },
    }),
    holds: res => res.statusCode === 201,
  }],
  'POST /api/key-areas/preview': [{
    kind: 'answer',
    request: t => ({ method: 'POST', url: '/api/key-areas/preview', payload: { geometry: square(t.lon, t.lat, 0.001) } }),
    holds: res => (json<{ counts: { houses: number } | null }>(res).counts?.houses ?? 0) > 0,
  }, {
    kind: 'answer', label: 'over a key area',
    request: t => ({ method: 'POST', url: '/api/key-areas/preview', payload: { geometry: square(t.keyAreaPoint[0], t.keyAreaPoint[1], 0.0003) } }),
    holds: (res, t) => JSON.stringify(json<{ warnings: unknown[] }>(res).warnings).includes(`#${t.keyArea})`),
  }, {
    kind: 'answer', label: 'excluding a key area',
    request: t => ({ method: 'POST', url: '/api/key-areas/preview', payload: { geometry: square(t.lon, t.lat, 0.001), excludeId: t.keyArea } }),
    holds: res => (json<{ counts: { houses: number } | null }>(res).counts?.houses ?? 0) > 0,
  }],
  'POST /api/analysis/proposals': [{
    kind: 'answer', write: true,
    request: t => ({ method: 'POST', url: '/api/analysis/proposals', payload: { geometry: square(t.lon, t.lat, 0.001), parameters: { of: 'group-rentals', eps: 150, minPoints: 8 } } }),
    holds: res => res.statusCode === 201,
  }],
  'GET /api/premises': [{
    kind: 'answer', label: 'bbox',
    request: t => ({ url: `/api/premises?${query({ bbox: bbox(t) })}` }),
    holds: (res, t) => featureIds(res).includes(t.premises),
  }, {
    kind: 'answer', label: 'filter',
    request: t => ({ url: `/api/premises?${query(t.filter)}` }),
    holds: res => featureIds(res).length > 0,
  }],
  'GET /api/premises/near': [{
    kind: 'answer', request: t => ({ url: `/api/premises/near?${query({ lon: t.lon, lat: t.lat, limit: 5 })}` }),
    holds: (res, t) => json<{ id: number }[]>(res).some(p => p.id === t.premises),
  }],
  'GET /api/search': [{
    kind: 'answer', label: 'address', request: t => ({ url: `/api/search?${query({ q: t.address, limit: 50 })}` }),
    holds: (res, t) => json<{ results: { kind: string; id: number }[] }>(res).results.some(r => r.kind === 'premises' && r.id === t.premises),
  }],
  'POST /api/search': [{
    kind: 'answer', label: 'ID number', request: t => ({ method: 'POST', url: '/api/search', payload: { q: t.idNumber, limit: 50 } }),
    holds: (res, t) => json<{ results: { kind: string; id: number }[] }>(res).results.some(r => r.kind === 'resident' && r.id === t.resident),
  }],
  'GET /api/premises/counts': [{ kind: 'answer', request: t => ({ url: `/api/premises/counts?${query(t.filter)}` }), holds: res => json<{ total: number }>(res).total > 0 }],
  'GET /api/stats/summary': [{
    kind: 'answer', request: t => ({ url: `/api/stats/summary?${query(t.filter)}` }),
    holds: res => countsHold(json<{ district: { counts: Record<string, number> } }>(res).district.counts),
  }],
  'GET /api/stats/series': [{
    kind: 'answer', request: t => ({ url: `/api/stats/series?${query(t.filter)}` }),
    holds: res => json<{ points: { counts: Record<string, number> }[] }>(res).points.some(p => countsHold(p.counts)),
  }],
  'GET /api/stats/hazards': [{
    kind: 'answer', request: t => ({ url: `/api/stats/hazards?${query(t.filter)}` }),
    holds: res => json<{ byCategory: { found: number }[] }>(res).byCategory.some(c => c.found > 0),
  }],
  'GET /api/tiles/premises/:z/:x/:y.mvt': [{
    kind: 'answer',
    request: t => ({ url: `/api/tiles/premises/${tileOf(t.lon, t.lat, 16).join('/')}.mvt` }),
    holds: (res, t) => {
      const [z, x, y] = tileOf(t.lon, t.lat, 16)
      return Object.values(decodeTile(new Uint8Array(res.rawPayload), z, x, y)).flat().some(f => f.id === t.premises || f.properties.id === t.premises)
    },
  }],
  'GET /api/analysis/rings': [{
    kind: 'answer', request: t => ({ url: `/api/analysis/rings?${query({ ...t.filter, kinds: 'campus,factory,urban_village,urban_rural_fringe,resettlement_estate,underground_space', radii: '5000' })}` }),
    holds: res => json<{ features: { properties: { premises: number } }[] }>(res).features.some(f => f.properties.premises > 0),
  }],
  'GET /api/analysis/clusters': [{
    kind: 'answer', request: t => ({ url: `/api/analysis/clusters?${query({ ...t.filter, of: 'group-rentals', eps: 2000, minPoints: 2 })}` }),
    holds: res => json<{ features: unknown[] }>(res).features.length > 0,
  }],
  'GET /api/exports/premises': [{
    kind: 'answer', label: 'bbox', request: t => ({ url: `/api/exports/premises?${query({ bbox: bbox(t), format: 'geojson' })}` }),
    holds: (res, t) => featureIds(res).includes(t.premises),
  }, {
    kind: 'answer', label: 'filter', request: t => ({ url: `/api/exports/premises?${query({ ...t.filter, format: 'geojson' })}` }),
    holds: res => featureIds(res).length > 0,
  }],
  'GET /api/exports/hazards': [{
    kind: 'answer', label: 'filter', request: t => ({ url: `/api/exports/hazards?${query({ ...t.filter, format: 'geojson' })}` }),
    holds: res => featureIds(res).length > 0,
  }, {
    kind: 'answer', label: 'bbox', request: t => ({ url: `/api/exports/hazards?${query({ bbox: bbox(t), format: 'geojson' })}` }),
    holds: (res, t) => json<{ features: { properties: { premisesId: number } }[] }>(res).features.some(f => f.properties.premisesId === t.premises),
  }],
  'GET /api/reports/attachment-4/:keyAreaId': [{ kind: 'record', request: t => ({ url: `/api/reports/attachment-4/${t.keyArea}?period=2020-06-14` }) }],
  'GET /api/reports/attachment-3': [{ kind: 'record', request: t => ({ url: `/api/reports/attachment-3?town=${t.reportTown}` }) }],
  'POST /api/reports/submissions': [{
    kind: 'record', label: 'attachment 4',
    request: async (t, s) => ({ method: 'POST', url: '/api/reports/submissions', payload: { report: 'attachment-4', keyAreaId: await s.freshKeyArea(t), period: '2020-06-14', filledBy: '矩阵' } }),
  }, {
    // A police station's users cannot submit a town's table at all (tested on its own).
    kind: 'record', label: 'attachment 3', sides: ['town'],
    request: t => ({ method: 'POST', url: '/api/reports/submissions', payload: { report: 'attachment-3', townId: t.reportTown, period: `2020-0${1 + (++serial % 9)}-14`, filledBy: '矩阵' } }),
  }],
  'POST /api/premises/:id/photos': [{
    kind: 'record',
    request: t => ({ method: 'POST', url: `/api/premises/${t.premises}/photos?clientId=${randomUUID()}`, payload: tinyJpeg, headers: { 'content-type': 'image/jpeg' } }),
  }],
  'POST /api/hazards/:id/photos': [{
    kind: 'record',
    request: async (t, s) => ({ method: 'POST', url: `/api/hazards/${await s.freshHazard(t, 'found')}/photos?stage=found&clientId=${randomUUID()}`, payload: tinyJpeg, headers: { 'content-type': 'image/jpeg' } }),
  }],
  'GET /api/premises/:id/photos': [{ kind: 'record', request: t => ({ url: `/api/premises/${t.premises}/photos` }) }],
  'GET /api/photos/:id': [{ kind: 'record', request: async (t, s) => ({ url: `/api/photos/${await insertPhoto(s.t.db.sql, { premisesId: t.premises, stage: 'premises' })}` }) }],
  'GET /api/photos/:id/thumb': [{ kind: 'record', request: async (t, s) => ({ url: `/api/photos/${await insertPhoto(s.t.db.sql, { premisesId: t.premises, stage: 'premises' })}/thumb` }) }],
  // Taken by the side's inspector: they delete their own, its commanders any of their jurisdiction.
  'DELETE /api/photos/:id': [{
    kind: 'record',
    request: async (t, s, side) => ({ method: 'DELETE', url: `/api/photos/${await insertPhoto(s.t.db.sql, { premisesId: t.premises, stage: 'premises', createdBy: await userId(s.t.db.sql, side.users.inspector!) })}` }),
  }],
  // Given to a district-wide inspector, so that the control commander may assign the outside sample too.
  'POST /api/tasks': [{
    kind: 'record', label: 'a list of premises',
    request: async (t, s) => {
      await clearTasks(s.t.db.sql, [t.premises])
      return { method: 'POST', url: '/api/tasks', payload: { kind: 'inspect', assigneeId: await districtInspector(s.t.db.sql), dueOn: dayFromToday(7), premisesIds: [t.premises] } }
    },
  }, {
    kind: 'answer', label: 'a drawn area', write: true,
    request: async (t, s) => {
      await s.t.db.sql`update task set status = 'cancelled', closed_at = now(), closed_by_action = 'task.cancel' where status = 'open'`
      return { method: 'POST', url: '/api/tasks', payload: { kind: 'inspect', assigneeId: await districtInspector(s.t.db.sql), dueOn: dayFromToday(7), geometry: square(t.lon, t.lat, 0.0005) } }
    },
    holds: (res, t) => res.statusCode === 201 && json<{ tasks: { premisesId: number }[] }>(res).tasks.some(x => x.premisesId === t.premises),
  }],
  'GET /api/tasks': [{
    kind: 'answer', label: 'by inspector',
    request: async (t, s) => {
      const assigneeId = await districtInspector(s.t.db.sql)
      await insertTask(s.t.db.sql, { premisesId: t.premises, assigneeId, kind: 'revisit' })
      return { url: `/api/tasks?${query({ assigneeId, status: 'open', limit: 5000 })}` }
    },
    holds: (res, t) => json<{ premisesId: number }[]>(res).some(x => x.premisesId === t.premises),
  }],
  'POST /api/tasks/:id/cancel': [{
    kind: 'record',
    request: async (t, s) => ({ method: 'POST', url: `/api/tasks/${await insertTask(s.t.db.sql, { premisesId: t.premises, assigneeId: await districtInspector(s.t.db.sql) })}/cancel`, payload: {} }),
  }],
  // The side's inspector closes a task given to them (outside: one given before their jurisdiction changed).
  'POST /api/tasks/:id/complete': [{
    kind: 'record',
    request: async (t, s, side) => ({
      method: 'POST', url: `/api/tasks/${await insertTask(s.t.db.sql, { premisesId: t.premises, assigneeId: await userId(s.t.db.sql, side.users.inspector!) })}/complete`,
      payload: { clientId: randomUUID(), note: '辖区矩阵：无变化' },
    }),
  }],
  'GET /api/enforcement': [{
    kind: 'answer', label: 'at premises',
    request: async (t, s) => {
      await enforcementAt(s, t)
      return { url: `/api/enforcement?${query({ premisesId: t.premises, limit: 1000 })}` }
    },
    holds: (res, t) => json<{ premisesId: number | null }[]>(res).some(e => e.premisesId === t.premises),
  }],
  'POST /api/enforcement': [{
    kind: 'answer', label: 'at premises', write: true,
    request: t => ({ method: 'POST', url: '/api/enforcement', payload: { kind: 'landlord_penalised', occurredOn: '2020-06-02', count: 1, premisesId: t.premises } }),
    holds: res => res.statusCode === 201,
  }, {
    // A town user's station-level record belongs to the town, whichever station reaching into it
    // counts it: the station of the town side's outside target serves the town too.
    kind: 'answer', label: 'at a police station', write: true, sides: ['police-station'],
    request: t => ({ method: 'POST', url: '/api/enforcement', payload: { kind: 'criminal_case_solved', occurredOn: '2020-06-02', count: 1, policeStationId: t.station } }),
    holds: res => res.statusCode === 201,
  }],
  'PATCH /api/enforcement/:id': [{
    kind: 'record', request: async (t, s) => ({ method: 'PATCH', url: `/api/enforcement/${await enforcementAt(s, t)}`, payload: { count: 2 } }),
  }],
  'POST /api/enforcement/:id/void': [{
    kind: 'record', request: async (t, s) => ({ method: 'POST', url: `/api/enforcement/${await enforcementAt(s, t)}/void`, payload: { reason: '辖区矩阵' } }),
  }],
  'GET /api/residents/:id/flags': [{ kind: 'record', request: t => ({ url: `/api/residents/${t.resident}/flags` }) }],
  'POST /api/residents/:id/flags': [{
    kind: 'record',
    request: async (t, s) => {
      await s.t.db.owner`delete from resident_flag where resident_id = ${t.resident}`
      return { method: 'POST', url: `/api/residents/${t.resident}/flags`, payload: { category: 'person_of_concern', flaggedOn: '2020-06-01', reason: '辖区矩阵' } }
    },
  }],
  'POST /api/residents/:id/flags/clear': [{
    kind: 'record',
    request: async (t, s) => {
      await s.t.db.owner`delete from resident_flag where resident_id = ${t.resident}`
      await s.t.db.sql`insert into resident_flag (resident_id, category, flagged_on) values (${t.resident}, 'person_of_concern', '2020-01-01')`
      return { method: 'POST', url: `/api/residents/${t.resident}/flags/clear`, payload: { category: 'person_of_concern', clearedOn: '2020-06-01', reason: '辖区矩阵' } }
    },
  }],
  'GET /api/leads/:id': [{ kind: 'record', request: async (t, s) => ({ url: `/api/leads/${await leadAt(s, t)}` }) }],
  // "No access" keeps the lead open, so that every call finds it still to be visited.
  'POST /api/leads/:id/visits': [{
    kind: 'record', request: async (t, s) => ({ method: 'POST', url: `/api/leads/${await leadAt(s, t)}/visits`, payload: { outcome: 'no_access', note: '辖区矩阵：无人应门' } }),
  }],
  // Given to a district-wide inspector, as for 'POST /api/tasks', so that the control commander may issue the outside lead too.
  'POST /api/leads/tasks': [{
    kind: 'record',
    request: async (t, s) => {
      const leadId = await leadAt(s, t)
      await clearTasks(s.t.db.sql, [t.premises])
      return { method: 'POST', url: '/api/leads/tasks', payload: { leadIds: [leadId], assigneeId: await districtInspector(s.t.db.sql), dueOn: dayFromToday(7) } }
    },
  }],
  'GET /api/leads': [{
    kind: 'answer', label: 'filter',
    request: async (t, s) => {
      await leadAt(s, t)
      return { url: `/api/leads?${query({ ...t.filter, minScore: 1, limit: 500 })}` }
    },
    holds: (res, t) => json<{ items: { id: number }[] }>(res).items.some(l => l.id === leadOf.get(t.premises)),
  }],
  'GET /api/leads/points': [{
    kind: 'answer', label: 'filter',
    request: async (t, s) => {
      await leadAt(s, t)
      return { url: `/api/leads/points?${query({ ...t.filter, minScore: 1, limit: 20_000 })}` }
    },
    holds: (res, t) => featureIds(res).includes(leadOf.get(t.premises)),
  }],
  // Counts only, so the target's lead is the one lead awaiting another try after "no access": the
  // count holds it or not. A police station's sides share a town, so the town filter alone cannot hide it.
  'GET /api/leads/stats': [{
    kind: 'answer', label: 'town',
    request: async (t, s) => {
      const leadId = await leadAt(s, t)
      await s.t.db.owner`update lead set outcome = null, outcome_on = null where status <> 'visited' and outcome = 'no_access' and id <> ${leadId}`
      await s.t.db.owner`update lead set outcome = 'no_access', outcome_on = current_date where id = ${leadId}`
      return { url: `/api/leads/stats?${query({ town: t.town })}` }
    },
    holds: res => json<{ noAccessPending: number }>(res).noAccessPending > 0,
  }],
  'GET /ogc/collections/:collectionId/items/:featureId': [
    { kind: 'record', label: 'premises', request: t => ({ url: `/ogc/collections/premises/items/${t.premises}` }) },
    { kind: 'record', label: 'key areas', request: t => ({ url: `/ogc/collections/key-areas/items/${t.keyArea}` }) },
  ],
  'GET /ogc/collections/:collectionId/items': [{
    kind: 'answer', label: 'premises', request: t => ({ url: `/ogc/collections/premises/items?${query({ bbox: bbox(t) })}` }),
    holds: (res, t) => featureIds(res).includes(t.premises),
  }, {
    kind: 'answer', label: 'key areas', request: t => ({ url: `/ogc/collections/key-areas/items?${query({ bbox: [t.keyAreaPoint[0], t.keyAreaPoint[1], t.keyAreaPoint[0] + 1e-6, t.keyAreaPoint[1] + 1e-6].join(',') })}` }),
    holds: (res, t) => featureIds(res).includes(t.keyArea),
  }],
}

/** An enforcement record at the target's premises (its town and station), for the enforcement routes. */
async function enforcementAt(s: Scene, t: Target): Promise<number> {
  const [e] = await s.t.db.sql<{ id: number }[]>`
    insert into enforcement_event (kind, occurred_on, count, premises_id, geom, town_id, police_station_id)
    select 'arrest', '2020-06-01', 1, p.id, p.geom, p.town_id, p.police_station_id from premises p where p.id = ${t.premises}
    returning id`
  return e!.id
}

/** The lead of each target's premises (made by leadAt), by premises id. */
const leadOf = new Map<number, number>()

/**
 * The lead of the target's premises, made when missing and put back each time as issued, open to
 * anyone, at the top score and still a candidate: every lead route may act on it again.
 */
async function leadAt(s: Scene, t: Target): Promise<number> {
  const [l] = await s.t.db.owner<{ id: number }[]>`
    insert into lead (premises_id, address, geom, town_id, community_id, police_station_id, score, band, candidate, status, issued_at, issued_score, issued_band)
    select p.id, p.address, p.geom, p.town_id, p.community_id, p.police_station_id, 1, 'A', true, 'open', now(), 1, 'A' from premises p where p.id = ${t.premises}
    on conflict (premises_id) do update set score = 1, band = 'A', candidate = true, status = 'open', assigned_to = null, assigned_at = null, task_id = null,
      outcome = null, outcome_on = null, issued_at = coalesce(lead.issued_at, now()), issued_score = coalesce(lead.issued_score, 1), issued_band = coalesce(lead.issued_band, 'A')
    returning id`
  leadOf.set(t.premises, l!.id)
  return l!.id
}

/**
 * Routes that take an id but name no record of a jurisdiction, each with the reason. Imports, of
 * ledgers and of readings, are the uploader's own: another user's import does not exist for anyone
 * (tested on its own).
 */
export const notJurisdictional: Record<string, string> = {
  'GET /api/areas': 'the district\'s areas are reference data for every signed-in user (parent= names an area, not a record)',
  'GET /ogc/collections/:collectionId': 'names a collection, not a record',
  'GET /api/imports/templates/:kind': 'names a kind of ledger',
  'GET /basemap/tiles/:z/:x/:y.mvt': 'the street map holds no campaign data and is the same for everybody',
  'GET /basemap/fonts/:fontstack/:range.pbf': 'map glyphs: a font, not a record',
  'GET /api/imports/:id': 'an import belongs to its uploader',
  'POST /api/imports/:id/dry-run': 'an import belongs to its uploader',
  'POST /api/imports/:id/commit': 'an import belongs to its uploader',
  'GET /api/imports/:id/errors': 'an import belongs to its uploader',
  'GET /api/imports/:id/changes': 'an import belongs to its uploader',
  'DELETE /api/imports/:id': 'an import belongs to its uploader',
  'GET /api/readings/:id': 'a readings import belongs to its uploader',
  'POST /api/readings/:id/dry-run': 'a readings import belongs to its uploader',
  'POST /api/readings/:id/commit': 'a readings import belongs to its uploader',
  'GET /api/readings/:id/errors': 'a readings import belongs to its uploader',
  'GET /api/readings/:id/unmatched': 'a readings import belongs to its uploader',
  'DELETE /api/readings/:id': 'a readings import belongs to its uploader',
  'PATCH /api/views/:id': 'a saved view belongs to its owner and holds only a page address (tested in views.test.ts)',
  'DELETE /api/views/:id': 'a saved view belongs to its owner and holds only a page address (tested in views.test.ts)',
  'POST /api/notices/:id/read': 'a notice belongs to its user; one about a place outside the user\'s jurisdiction now does not exist (tests/server/notices.test.ts)',
  'POST /api/notices/:id/unread': 'a notice belongs to its user; one about a place outside the user\'s jurisdiction now does not exist (tests/server/notices.test.ts)',
}

type Props = { properties?: Record<string, unknown> } | undefined
/**
 * Names in a route's query or body that say where: ids, places, areas, a point, ID numbers, and a
 * search text (which finds records by their address, name or number).
 */
const whereName = /^(id|id[A-Z].*|.*Id|bbox|town|community|grid|policeStation|parent|geometry|location|lon|lat|q)$/

/** Whether a route takes an id, a place or an area (read from its schema, so new routes are seen). */
export function takesWhere(r: RouteInfo): boolean {
  const s = r.schema as Record<string, Props> | undefined
  if (Object.keys(s?.params?.properties ?? {}).length > 0) return true
  return [s?.querystring, s?.body].some(part => Object.keys(part?.properties ?? {}).some(k => whereName.test(k)))
}

export const routeKey = (r: Pick<RouteInfo, 'method' | 'url'>) => `${r.method} ${r.url.replace(/\/$/, '')}`

/** The routes of the table the tested roles may use that take an id, a place or an area (HEAD is GET's twin). */
export function whereRoutes(app: FastifyInstance): RouteInfo[] {
  const tested: Role[] = ['commander', 'inspector']
  return app.routeTable.filter(r => r.method !== 'HEAD' && takesWhere(r) && tested.some(role => can(role, r.permission as Permission)))
}

/** Sets up both sides: the demo town users, police-station users made here, and records well inside and outside. */
export async function buildScene(t: TestApp): Promise<Scene> {
  const sql = t.db.sql
  const [u] = await sql<{ town: number }[]>`select jurisdiction_town_id as town from app_user where username = 'commander'`
  const townId = u!.town
  // The police station that serves the demo town and others too, and a town it shares with another station.
  const [st] = await sql<{ station: number; sharedTown: number; otherStation: number }[]>`
    with s as (select police_station_id as station from premises where town_id = ${townId} group by 1 order by count(*) desc limit 1)
    select s.station, p.town_id as shared_town, o.police_station_id as other_station
    from s join premises p on p.police_station_id = s.station and p.town_id <> ${townId}
    join premises o on o.town_id = p.town_id and o.police_station_id <> s.station
    group by 1, 2, 3 order by count(*) desc limit 1`
  const { station, sharedTown, otherStation } = st!

  const admin = await signIn(t.app, 'admin')
  const stationUsers: Partial<Record<Role, string>> = {}
  for (const role of ['commander', 'inspector'] as const) {
    const username = `station.${role}`
    const res = await t.app.inject({
      method: 'POST', url: '/api/users', headers: { cookie: admin },
      payload: { username, displayName: `派出所${role}`, role, jurisdiction: { kind: 'police_station', id: station }, password: 'station-password' },
    })
    expect(res.statusCode, res.body).toBe(201)
    stationUsers[role] = username
  }

  /** The premises (with residents) of a condition farthest from a border, and what lies around it. */
  async function target(where: Fragment, border: Fragment, keyArea: Fragment, reportTown: number, filter: Record<string, string>): Promise<Target> {
    const [p] = await sql<{ id: number; address: string; lon: number; lat: number; townId: number; policeStationId: number }[]>`
      select p.id, p.address, st_x(p.geom) as lon, st_y(p.geom) as lat, p.town_id, p.police_station_id
      from premises p where ${where} and exists (select 1 from resident r where r.premises_id = p.id)
        and exists (select 1 from hazard h where h.premises_id = p.id)
      order by st_distance(p.geom, ${border}) desc, p.id limit 1`
    const [r] = await sql<{ id: number; idNumberCipher: Uint8Array }[]>`select id, id_number_cipher from resident where premises_id = ${p!.id} order by id limit 1`
    const [k] = await sql<{ id: number; lon: number; lat: number }[]>`
      select k.id, st_x(st_pointonsurface(k.geom)) as lon, st_y(st_pointonsurface(k.geom)) as lat
      from key_area k where k.deleted_at is null and ${keyArea} order by k.id limit 1`
    return {
      premises: p!.id, address: p!.address, resident: r!.id, idNumber: decryptIdNumber(testKeys, r!.idNumberCipher), keyArea: k!.id, keyAreaPoint: [k!.lon, k!.lat], lon: p!.lon, lat: p!.lat,
      town: p!.townId, station: p!.policeStationId, reportTown, filter,
    }
  }
  const townBorder = sql`(select st_boundary(geom) from admin_area where id = ${townId})`
  const stationBorder = sql`(select st_boundary(geom) from police_station where id = ${station})`
  // A town that the police station's area does not reach, for the station's outside attachment 3.
  const [far] = await sql<{ id: number }[]>`
    select t.id from admin_area t, police_station s where t.level = 'town' and t.valid_to is null and s.id = ${station}
      and coalesce(st_area(st_intersection(t.geom, s.geom)), 0) < 1e-9
      and not exists (select 1 from premises p where p.town_id = t.id and p.police_station_id = ${station})
    order by t.id limit 1`

  const town: Side = {
    name: 'town',
    users: { commander: 'commander', inspector: 'inspector' },
    inside: await target(sql`p.town_id = ${townId}`, townBorder, sql`k.town_id = ${townId}`, townId, { town: String(townId) }),
    // Same police station, another town: what a filter on the station would wrongly let through.
    outside: await target(sql`p.town_id = ${sharedTown} and p.police_station_id = ${station}`, townBorder,
      sql`k.town_id <> ${townId} and k.police_station_id = ${station}`, sharedTown, { town: String(sharedTown) }),
  }
  const stationSide: Side = {
    name: 'police-station',
    users: stationUsers,
    // The station's premises in another town than the demo one: what a filter on a town would wrongly hide.
    inside: await target(sql`p.town_id = ${sharedTown} and p.police_station_id = ${station}`, stationBorder,
      sql`k.police_station_id = ${station} and k.town_id <> ${townId}`, sharedTown, { policeStation: String(station) }),
    // Same town, another station: what a filter on the town would wrongly let through.
    outside: await target(sql`p.town_id = ${sharedTown} and p.police_station_id = ${otherStation}`, stationBorder,
      sql`k.police_station_id <> ${station} and k.town_id = ${sharedTown}`, far!.id, { policeStation: String(otherStation) }),
  }

  const cookies: Record<string, string> = {}
  for (const name of ['commander', 'inspector', controlUser]) cookies[name] = await signIn(t.app, name)
  for (const name of Object.values(stationUsers)) cookies[name!] = await signIn(t.app, name!, 'station-password')

  const control = () => cookies[controlUser]!
  return {
    t, town, station: stationSide, cookies,
    async freshHazard(tg, state) {
      const [h] = await sql<{ id: number }[]>`
        insert into hazard (premises_id, item_code, severity, status, department_code, found_at, rectified_at, deadline)
        values (${tg.premises}, 'FIRE-06', 'general', ${state}, 'fire', now() - interval '2 days',
                ${state === 'rectified' ? sql`now() - interval '1 day'` : null}, current_date + 10)
        returning id`
      // A rectification is verified with its "after" photo.
      if (state === 'rectified') await insertAfterPhoto(sql, h!.id)
      return h!.id
    },
    async freshKeyArea(tg) {
      const [k] = await sql<{ id: number }[]>`
        insert into key_area (campaign_id, name_zh, town_id, police_station_id, status, listed_on, geom)
        select (select id from campaign limit 1), ${`辖区矩阵${++serial}`}, ${tg.town}, ${tg.station}, 'listed', '2020-03-01',
               st_multi(st_buffer(st_setsrid(st_makepoint(${tg.lon}, ${tg.lat}), 4326), 0.0008))
        returning id`
      return k!.id
    },
    async freshPremises(tg) {
      const res = await t.app.inject({
        method: 'POST', url: '/api/premises', headers: { cookie: control() },
        payload: { kind: 'rental', address: `辖区矩阵搬迁路${++serial}号`, location: { lon: tg.lon - 0.0002, lat: tg.lat, crs: 'wgs84' }, occupants: 2, foundOn: '2020-06-01' },
      })
      expect(res.statusCode, res.body).toBe(201)
      return res.json().id as number
    },
  }
}

async function call(s: Scene, cookie: string, sample: Sample): Promise<Res> {
  return s.t.app.inject({
    method: (sample.method ?? 'GET') as 'GET', url: sample.url, payload: sample.payload as Record<string, unknown> | undefined,
    headers: { ...sample.headers, cookie },
  })
}

const brief = (res: Res) => `${res.statusCode} ${res.body.slice(0, 160)}`

/**
 * Runs the probes of the given kind over the routes that take where, for both sides, and answers
 * what went wrong, one line each. Only the roles that may use a route are tried on it.
 */
export async function runMatrix(s: Scene, kind: Probe['kind']): Promise<{ failures: string[]; calls: number }> {
  const failures: string[] = []
  let calls = 0
  for (const r of whereRoutes(s.t.app)) {
    for (const probe of probes[routeKey(r)] ?? []) {
      if (probe.kind !== kind) continue
      const name = `${r.method} ${r.url}${probe.label ? ` (${probe.label})` : ''}`
      for (const side of [s.town, s.station].filter(x => !probe.sides || probe.sides.includes(x.name))) {
        for (const [role, username] of Object.entries(side.users) as [Role, string][]) {
          if (!can(role, r.permission as Permission)) continue
          const cookie = s.cookies[username]!
          const inside = await call(s, cookie, await probe.request(side.inside, s, side))
          const outside = await call(s, cookie, await probe.request(side.outside, s, side))
          calls += 2
          const who = `${side.name} ${role}`
          if (inside.statusCode >= 400 || (probe.holds && !probe.holds(inside, side.inside))) failures.push(`${who} ${name} inside: ${brief(inside)}`)
          if (kind === 'record' && outside.statusCode !== 404) failures.push(`${who} ${name} outside answers ${brief(outside)} instead of 404`)
          if (kind === 'answer') {
            if (probe.write && (outside.statusCode < 400 || outside.statusCode >= 500)) failures.push(`${who} ${name} outside was not refused: ${brief(outside)}`)
            if (!probe.write && (outside.statusCode >= 400 || probe.holds!(outside, side.outside))) failures.push(`${who} ${name} outside holds the record: ${brief(outside)}`)
          }
        }
        // The district-wide commander finds the outside sample: it names a real record.
        if (can('commander', r.permission as Permission)) {
          const control = await call(s, s.cookies[controlUser]!, await probe.request(side.outside, s, side))
          calls++
          if (control.statusCode >= 400 || (probe.holds && !probe.holds(control, side.outside))) failures.push(`control ${side.name} ${name} outside sample: ${brief(control)}`)
        }
      }
    }
  }
  return { failures, calls }
}
