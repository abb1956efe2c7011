import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { can, type Permission, roles, type Role } from '../../server/domain/access.js'
import { residentIdProblem } from '../../server/domain/id-number.js'
import { acceptanceChecklist } from '../../server/domain/lists.js'
import { decryptIdNumber } from '../../server/domain/pii.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { testKeys } from '../helpers/keys.js'
import { insertAfterPhoto, insertPhoto, tinyJpeg } from '../helpers/photos.js'
import { clearTasks, dayFromToday, insertTask, userId } from '../helpers/tasks.js'
import { tileOf } from '../helpers/tiles.js'

let t: TestApp
const cookies = {} as Record<Role, string>
/** Ids inside and outside the town of the demo commander and inspector. */
const ids = { townIn: 0, premisesIn: 0, premisesOut: 0, residentIn: 0, residentOut: 0, throwawayUser: 0, tile: [0, 0, 0], location: { lon: 0, lat: 0 } }
let userCounter = 0

beforeAll(async () => {
  t = await buildTestApp()
  for (const role of roles) cookies[role] = await signIn(t.app, role)
  const sql = t.db.sql
  const [town] = await sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
  ids.townIn = town!.id
  const [pin] = await sql<{ id: number }[]>`select p.id from premises p where p.town_id = ${ids.townIn} and exists (select 1 from resident r where r.premises_id = p.id) order by p.id limit 1`
  const [pout] = await sql<{ id: number }[]>`select p.id from premises p where p.town_id <> ${ids.townIn} and exists (select 1 from resident r where r.premises_id = p.id) order by p.id limit 1`
  ids.premisesIn = pin!.id
  const [loc] = await sql<{ lon: number; lat: number }[]>`select st_x(geom) as lon, st_y(geom) as lat from premises where id = ${pin!.id}`
  ids.tile = tileOf(loc!.lon, loc!.lat, 14)
  ids.location = { lon: loc!.lon, lat: loc!.lat }
  ids.premisesOut = pout!.id
  ids.residentIn = (await sql<{ id: number }[]>`select id from resident where premises_id = ${ids.premisesIn} order by id limit 1`)[0]!.id
  ids.residentOut = (await sql<{ id: number }[]>`select id from resident where premises_id = ${ids.premisesOut} order by id limit 1`)[0]!.id
  const res = await t.app.inject({
    method: 'POST', url: '/api/users', headers: { cookie: cookies.admin },
    payload: { username: 'throwaway', displayName: 'Throwaway', role: 'analyst', jurisdiction: { kind: 'district' }, password: 'a-long-secret' },
  })
  ids.throwawayUser = res.json().id
})
afterAll(() => t.close())

interface Sample { url: string; payload?: unknown; freshSession?: boolean; headers?: Record<string, string> }

/**
 * How to call each route. A route added to the application without a sample here makes the matrix
 * test fail, so that no route escapes the access checks.
 */
/** A fresh hazard in the commander's town, in the given state, for the workflow routes. */
async function freshHazard(state: 'found' | 'rectified'): Promise<number> {
  const [h] = await t.db.sql<{ id: number }[]>`
    insert into hazard (premises_id, item_code, severity, status, department_code, found_at, rectified_at, deadline)
    values (${ids.premisesIn}, 'FIRE-06', 'general', ${state}, 'fire', now() - interval '2 days',
            ${state === 'rectified' ? t.db.sql`now() - interval '1 day'` : null}, current_date + 10)
    returning id`
  // A rectification is verified with its "after" photo.
  if (state === 'rectified') await insertAfterPhoto(t.db.sql, h!.id)
  return h!.id
}

/** An enforcement record at premises in the commander's town, for the enforcement routes. */
async function freshEnforcement(): Promise<number> {
  const [e] = await t.db.sql<{ id: number }[]>`
    insert into enforcement_event (kind, occurred_on, count, premises_id, geom, town_id, police_station_id)
    select 'arrest', '2020-06-01', 1, p.id, p.geom, p.town_id, p.police_station_id from premises p where p.id = ${ids.premisesIn}
    returning id`
  return e!.id
}

/** A key area in the commander's town (version 1), for the key-area routes. */
async function freshKeyArea(): Promise<number> {
  const [k] = await t.db.sql<{ id: number }[]>`
    insert into key_area (campaign_id, name_zh, town_id, status, listed_on, geom)
    select (select id from campaign limit 1), '矩阵测试', ${ids.townIn}, 'listed', '2020-03-01',
           st_multi(st_buffer(st_setsrid(st_makepoint(${ids.location.lon}, ${ids.location.lat}), 4326), 0.002))
    returning id`
  return k!.id
}

/** A supervision item (a major hazard of the commander's town), rectified and with its photo when it is to be closed. */
async function freshSupervision(rectified = false): Promise<{ id: number; photo: number }> {
  const [h] = await t.db.sql<{ id: number }[]>`
    insert into hazard (premises_id, item_code, severity, status, department_code, found_at, rectified_at, deadline)
    values (${ids.premisesIn}, 'FIRE-06', 'major', ${rectified ? 'rectified' : 'found'}, 'fire', now() - interval '2 days', ${rectified ? t.db.sql`now()` : null}, current_date + 10)
    returning id`
  const [s] = await t.db.sql<{ id: number }[]>`
    insert into supervision_item (campaign_id, kind, hazard_id, premises_id, town_id, unit_kind, unit_department, responsible_person, reason, deadline, listed_on, listed_by)
    select (select id from campaign limit 1), 'hazard', ${h!.id}, p.id, p.town_id, 'department', 'fire', '矩阵', '矩阵测试', current_date, current_date, (select id from app_user where username = 'commander')
    from premises p where p.id = ${ids.premisesIn}
    returning id`
  const photo = await insertPhoto(t.db.sql, { hazardId: h!.id, stage: 'rectified' })
  return { id: s!.id, photo }
}

/** A major hazard of the commander's town, open, for a new listing. */
async function freshMajorHazard(): Promise<number> {
  const [h] = await t.db.sql<{ id: number }[]>`
    insert into hazard (premises_id, item_code, severity, status, department_code, found_at, deadline)
    values (${ids.premisesIn}, 'FIRE-06', 'major', 'found', 'fire', now() - interval '2 days', current_date + 10)
    returning id`
  return h!.id
}

/** A notice of the user who signed in last (the sample asks for a fresh session), for the read/unread routes. */
async function ownNotice(): Promise<number> {
  const [n] = await t.db.sql<{ id: number }[]>`
    insert into notice (user_id, kind, payload, dedupe_key)
    select u.id, 'submission-due', '{"periodTo": "2020-06-14"}', 'matrix-' || ${++userCounter} from user_session s join app_user u on u.id = s.user_id
    order by s.id desc limit 1
    returning id`
  return n!.id
}

/** A revisit sample of one record (a rectified hazard at the commander's premises), for the revisit routes. */
async function freshRevisit(): Promise<{ sample: number; item: number }> {
  const [h] = await t.db.sql<{ id: number }[]>`
    insert into hazard (premises_id, item_code, severity, status, department_code, found_at, rectified_at, deadline)
    values (${ids.premisesIn}, 'FIRE-06', 'general', 'rectified', 'fire', now() - interval '2 days', now(), current_date + 10) returning id`
  const [sm] = await t.db.sql<{ id: number }[]>`
    insert into revisit_sample (campaign_id, subject, size, population, seed, drawn_on, drawn_by)
    values ((select id from campaign limit 1), 'hazard', 1, 1, 'matrix', '2020-06-01', (select id from app_user where username = 'commander')) returning id`
  const [it] = await t.db.sql<{ id: number }[]>`
    insert into revisit_item (sample_id, hazard_id, premises_id, town_id, police_station_id, department_code)
    select ${sm!.id}, ${h!.id}, p.id, p.town_id, p.police_station_id, 'fire' from premises p where p.id = ${ids.premisesIn} returning id`
  return { sample: sm!.id, item: it!.id }
}

/** A listed key area of the commander's town holding no premises (so no open hazard), submitted for acceptance by another user when asked. */
async function emptyKeyArea(submitted = false): Promise<{ keyArea: number; acceptance: number }> {
  const [k] = await t.db.sql<{ id: number }[]>`
    insert into key_area (campaign_id, name_zh, town_id, status, listed_on, geom)
    select (select id from campaign limit 1), '验收矩阵', ${ids.townIn}, 'listed', '2020-03-01',
           st_multi(st_buffer(st_setsrid(st_makepoint(${ids.location.lon + 0.0003}, ${ids.location.lat + 0.0003}), 4326), 0.00001))
    returning id`
  if (!submitted) return { keyArea: k!.id, acceptance: 0 }
  const [a] = await t.db.sql<{ id: number }[]>`
    insert into key_area_acceptance (key_area_id, submitted_by, open_hazards, checklist)
    values (${k!.id}, (select id from app_user where username = 'admin'), 0, '{}') returning id`
  return { keyArea: k!.id, acceptance: a!.id }
}

const keyAreaBody = () => ({
  type: 'Feature',
  geometry: { type: 'Polygon', coordinates: [[[ids.location.lon - 0.002, ids.location.lat - 0.002], [ids.location.lon + 0.002, ids.location.lat - 0.002], [ids.location.lon + 0.002, ids.location.lat + 0.002], [ids.location.lon - 0.002, ids.location.lat - 0.002]]] },
  properties: { nameZh: '矩阵', listedOn: '2020-03-01', townId: ids.townIn },
})

/** A small ledger uploaded by the commander (the one role that imports), for the import routes. */
const ledgerCsv = () => `台账编号,类型,地址,经度,纬度,发现日期\r\nACC-${++userCounter},群租房,矩阵路1号,${ids.location.lon},${ids.location.lat},2020-03-01\r\n`
async function freshImport(): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/api/imports?kind=premises&fileName=m.csv', headers: { cookie: cookies.commander, 'content-type': 'text/csv' }, payload: ledgerCsv() })
  return res.json().id
}
const importRun = { mapping: { ref: '台账编号', kind: '类型', address: '地址', lon: '经度', lat: '纬度', foundOn: '发现日期' }, crs: 'wgs84' }

/** A small electricity readings file uploaded by the commander, for the readings routes. */
const readingsCsv = () => `户号,用电地址,经度,纬度,日期,用电量\r\nM-${++userCounter},矩阵路1号,${ids.location.lon},${ids.location.lat},2020-03-01,12.5\r\n`
async function freshReadings(): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/api/readings?utility=electricity&fileName=r.csv', headers: { cookie: cookies.commander, 'content-type': 'text/csv' }, payload: readingsCsv() })
  return res.json().id
}
const readingsRun = { mapping: { accountNo: '户号', address: '用电地址', lon: '经度', lat: '纬度', date: '日期', value: '用电量' }, crs: 'wgs84', matchDistance: 30 }

/** A lead at an address of the commander's town (no premises there), issued to the inspector when asked. */
async function freshLead(assigned = false): Promise<number> {
  const inspector = await userId(t.db.sql, 'inspector')
  const [l] = await t.db.sql<{ id: number }[]>`
    insert into lead (site_key, address, geom, town_id, score, band, status, issued_at, issued_score, issued_band, issued_features, assigned_to, assigned_at)
    values (${`matrix-${++userCounter}`}, '矩阵路2号', st_setsrid(st_makepoint(${ids.location.lon}, ${ids.location.lat}), 4326), ${ids.townIn}, 0.6, 'B',
            ${assigned ? 'assigned' : 'new'}, ${assigned ? t.db.sql`now()` : null}, ${assigned ? 0.6 : null}, ${assigned ? 'B' : null},
            ${assigned ? t.db.sql.json({ elecVsNorm: 2 }) : null}, ${assigned ? inspector : null}, ${assigned ? t.db.sql`now()` : null})
    returning id`
  return l!.id
}

/** Enough visited leads, of both outcomes, for the model to be trained on. */
async function visitedLeads(): Promise<void> {
  const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from lead where status = 'visited'`
  if (n!.n >= 30) return
  await t.db.sql`
    insert into lead (site_key, address, geom, town_id, score, band, status, issued_at, issued_score, issued_band, issued_features, outcome, outcome_on, attempts)
    select 'matrix-visited-' || i, '矩阵路' || i || '号', st_setsrid(st_makepoint(${ids.location.lon}, ${ids.location.lat}), 4326), ${ids.townIn}, 0.5, 'B',
           'visited', now(), 0.5, 'B', jsonb_build_object('elecVsNorm', case when i % 2 = 0 then 3 else 0.9 end, 'nightShare', 0.3 + (i % 5) * 0.03),
           case when i % 2 = 0 then 'group_rental' else 'not_rental' end, '2020-06-01', 1
    from generate_series(1, 30) i`
}

/** A saved view of the role's user (the one who may change it), for the saved-view routes. */
async function freshView(role: Role | undefined): Promise<number> {
  const [v] = await t.db.sql<{ id: number }[]>`
    insert into saved_view (user_id, name, page, query)
    select id, ${`matrix ${++userCounter}`}, 'dashboard', '{}'::jsonb from app_user where username = ${role ?? 'leader'}
    returning id`
  return v!.id
}

/** Each route's sample request; a route that acts on the caller's own record is given the calling role. */
const samples: Record<string, (role?: Role) => Sample | Promise<Sample>> = {
  'GET /api/imports/templates/:kind': () => ({ url: '/api/imports/templates/premises?format=csv' }),
  'POST /api/imports/': () => ({ url: '/api/imports/?kind=premises&fileName=m.csv', payload: ledgerCsv(), headers: { 'content-type': 'text/csv' } }),
  'GET /api/imports/': () => ({ url: '/api/imports/' }),
  'GET /api/imports/:id': async () => ({ url: `/api/imports/${await freshImport()}` }),
  'POST /api/imports/:id/dry-run': async () => ({ url: `/api/imports/${await freshImport()}/dry-run`, payload: importRun }),
  'POST /api/imports/:id/commit': async () => ({ url: `/api/imports/${await freshImport()}/commit`, payload: importRun }),
  'GET /api/imports/:id/errors': async () => ({ url: `/api/imports/${await freshImport()}/errors` }),
  'GET /api/imports/:id/changes': async () => ({ url: `/api/imports/${await freshImport()}/changes` }),
  'DELETE /api/imports/:id': async () => ({ url: `/api/imports/${await freshImport()}` }),
  'GET /api/key-areas/': () => ({ url: '/api/key-areas/' }),
  'GET /api/analysis/rings': () => ({ url: '/api/analysis/rings' }),
  'GET /api/analysis/clusters': () => ({ url: '/api/analysis/clusters' }),
  'POST /api/analysis/proposals': async () => {
    // Each role proposes the same cluster: the earlier proposal is withdrawn so that the second is not a duplicate (409).
    await t.db.sql`update key_area set deleted_at = now() where proposed_from is not null and deleted_at is null`
    return { url: '/api/analysis/proposals', payload: { geometry: keyAreaBody().geometry, parameters: { of: 'group-rentals', eps: 150, minPoints: 8 } } }
  },
  'POST /api/key-areas/': () => ({ url: '/api/key-areas/?clip=true', payload: keyAreaBody() }),
  'POST /api/key-areas/preview': () => ({ url: '/api/key-areas/preview', payload: { geometry: keyAreaBody().geometry } }),
  'GET /api/key-areas/commanders': () => ({ url: '/api/key-areas/commanders' }),
  'GET /api/key-areas/:id': async () => ({ url: `/api/key-areas/${await freshKeyArea()}` }),
  'PUT /api/key-areas/:id': async () => ({ url: `/api/key-areas/${await freshKeyArea()}?clip=true`, payload: keyAreaBody(), headers: { 'if-match': '"1"' } }),
  'DELETE /api/key-areas/:id': async () => ({ url: `/api/key-areas/${await freshKeyArea()}`, headers: { 'if-match': '"1"' } }),
  'GET /api/key-areas/:id/versions': async () => ({ url: `/api/key-areas/${await freshKeyArea()}/versions` }),
  'GET /api/reports/attachment-5': () => ({ url: '/api/reports/attachment-5?period=2020-03-14' }),
  'GET /api/reports/attachment-4': () => ({ url: '/api/reports/attachment-4?period=2020-03-14' }),
  'GET /api/reports/attachment-4/:keyAreaId': async () => ({ url: `/api/reports/attachment-4/${await freshKeyArea()}?period=2020-03-14` }),
  'GET /api/reports/attachment-3': () => ({ url: `/api/reports/attachment-3?town=${ids.townIn}` }),
  'GET /api/reports/submissions': () => ({ url: '/api/reports/submissions' }),
  'POST /api/reports/submissions': async () => ({ url: '/api/reports/submissions', payload: { report: 'attachment-4', keyAreaId: await freshKeyArea(), period: '2020-03-14', filledBy: '矩阵' } }),
  'GET /api/exports/premises': () => ({ url: '/api/exports/premises?kind=care_home' }),
  'GET /api/exports/hazards': () => ({ url: '/api/exports/hazards?kind=care_home' }),
  'GET /ogc/': () => ({ url: '/ogc/' }),
  'GET /ogc/conformance': () => ({ url: '/ogc/conformance' }),
  'GET /ogc/api': () => ({ url: '/ogc/api' }),
  'GET /ogc/collections': () => ({ url: '/ogc/collections' }),
  'GET /ogc/collections/:collectionId': () => ({ url: '/ogc/collections/premises' }),
  'GET /ogc/collections/:collectionId/items': () => ({ url: '/ogc/collections/premises/items?limit=5' }),
  'GET /ogc/collections/:collectionId/items/:featureId': () => ({ url: `/ogc/collections/premises/items/${ids.premisesIn}` }),
  'GET /api/health/': () => ({ url: '/api/health/' }),
  'POST /api/auth/login': () => ({ url: '/api/auth/login', payload: { username: 'analyst', password: 'demo1234' } }),
  'POST /api/auth/logout': () => ({ url: '/api/auth/logout', freshSession: true }),
  'GET /api/auth/me': () => ({ url: '/api/auth/me' }),
  'GET /api/auth/demo': () => ({ url: '/api/auth/demo' }),
  'GET /api/auth/session': () => ({ url: '/api/auth/session' }),
  'GET /api/users/': () => ({ url: '/api/users/' }),
  'POST /api/users/': () => ({
    url: '/api/users/',
    payload: { username: `matrix-${++userCounter}`, displayName: 'M', role: 'leader', jurisdiction: { kind: 'district' }, password: 'long-enough-pw' },
  }),
  'PATCH /api/users/:id': () => ({ url: `/api/users/${ids.throwawayUser}`, payload: { displayName: `Renamed ${++userCounter}` } }),
  'POST /api/users/:id/password': () => ({ url: `/api/users/${ids.throwawayUser}/password`, payload: { password: 'another-long-pw' } }),
  'POST /api/users/:id/revoke-sessions': () => ({ url: `/api/users/${ids.throwawayUser}/revoke-sessions` }),
  'GET /api/audit/': () => ({ url: '/api/audit/?limit=5' }),
  'POST /api/residents/:id/reveal': () => ({ url: `/api/residents/${ids.residentIn}/reveal`, payload: { reason: 'access matrix test' } }),
  'POST /api/residents/search': () => ({ url: '/api/residents/search', payload: { idNumber: '320411199001011234' } }),
  'GET /api/areas': () => ({ url: '/api/areas?level=town' }),
  'GET /api/police-stations': () => ({ url: '/api/police-stations' }),
  'GET /api/pois': () => ({ url: '/api/pois' }),
  'GET /api/hazard-dictionary': () => ({ url: '/api/hazard-dictionary' }),
  'GET /api/campaign': () => ({ url: '/api/campaign' }),
  'GET /api/premises/': () => ({ url: '/api/premises/?limit=5' }),
  'GET /api/premises/:id': () => ({ url: `/api/premises/${ids.premisesIn}` }),
  'GET /api/premises/:id/residents': () => ({ url: `/api/premises/${ids.premisesIn}/residents` }),
  'GET /api/stats/summary': () => ({ url: '/api/stats/summary' }),
  'GET /api/closing/': () => ({ url: '/api/closing' }),
  'GET /api/accountability/': () => ({ url: '/api/accountability' }),
  'GET /api/stats/series': () => ({ url: '/api/stats/series' }),
  'GET /api/stats/hazards': () => ({ url: '/api/stats/hazards' }),
  'GET /api/premises/counts': () => ({ url: '/api/premises/counts' }),
  'GET /api/premises/near': () => ({ url: `/api/premises/near?lon=${ids.location.lon}&lat=${ids.location.lat}&limit=5` }),
  'GET /api/search/': () => ({ url: `/api/search/?q=${encodeURIComponent('社区')}` }),
  'POST /api/search/': () => ({ url: '/api/search/', payload: { q: '320411199001011234' } }),
  'GET /basemap/tiles/:z/:x/:y.mvt': () => ({ url: `/basemap/tiles/${ids.tile.join('/')}.mvt` }),
  'GET /basemap/fonts/:fontstack/:range.pbf': () => ({ url: '/basemap/fonts/Noto%20Sans%20Regular/0-255.pbf' }),
  'GET /api/config': () => ({ url: '/api/config' }),
  'GET /api/config/': () => ({ url: '/api/config/' }),
  'POST /api/premises/': () => ({
    url: '/api/premises/',
    payload: { kind: 'rental', address: '矩阵测试路1号', location: { ...ids.location, crs: 'wgs84' }, occupants: 3, foundOn: '2020-06-01' },
  }),
  'PATCH /api/premises/:id': () => ({ url: `/api/premises/${ids.premisesIn}`, payload: { occupants: 12 } }),
  'GET /api/premises/:id/hazards': () => ({ url: `/api/premises/${ids.premisesIn}/hazards` }),
  'POST /api/premises/:id/hazards': () => ({ url: `/api/premises/${ids.premisesIn}/hazards`, payload: { itemCode: 'FIRE-07', severity: 'general' } }),
  'GET /api/premises/:id/enforcement': () => ({ url: `/api/premises/${ids.premisesIn}/enforcement` }),
  'GET /api/enforcement/': () => ({ url: '/api/enforcement/?limit=5' }),
  'POST /api/enforcement/': () => ({ url: '/api/enforcement/', payload: { kind: 'arrest', occurredOn: '2020-06-01', count: 1, premisesId: ids.premisesIn } }),
  'PATCH /api/enforcement/:id': async () => ({ url: `/api/enforcement/${await freshEnforcement()}`, payload: { count: 3 } }),
  'POST /api/enforcement/:id/void': async () => ({ url: `/api/enforcement/${await freshEnforcement()}/void`, payload: { reason: 'access matrix' } }),
  'GET /api/residents/:id/flags': () => ({ url: `/api/residents/${ids.residentIn}/flags` }),
  'POST /api/residents/:id/flags': async () => {
    await t.db.owner`delete from resident_flag where resident_id = ${ids.residentIn}`
    return { url: `/api/residents/${ids.residentIn}/flags`, payload: { category: 'person_of_concern', flaggedOn: '2020-06-01', reason: 'access matrix' } }
  },
  'POST /api/residents/:id/flags/clear': async () => {
    await t.db.owner`delete from resident_flag where resident_id = ${ids.residentIn}`
    await t.db.sql`insert into resident_flag (resident_id, category, flagged_on) values (${ids.residentIn}, 'person_of_concern', '2020-01-01')`
    return { url: `/api/residents/${ids.residentIn}/flags/clear`, payload: { category: 'person_of_concern', clearedOn: '2020-06-01', reason: 'access matrix' } }
  },
  'POST /api/hazards/:id/refer': async () => ({ url: `/api/hazards/${await freshHazard('found')}/refer`, payload: {} }),
  'POST /api/hazards/:id/rectify': async () => ({ url: `/api/hazards/${await freshHazard('found')}/rectify`, payload: {} }),
  'POST /api/hazards/:id/verify': async () => ({ url: `/api/hazards/${await freshHazard('rectified')}/verify`, payload: {} }),
  'PATCH /api/hazards/:id': async () => ({ url: `/api/hazards/${await freshHazard('found')}`, payload: { deadline: '2099-01-31' } }),
  'GET /api/tiles/premises/:z/:x/:y.mvt': () => ({ url: `/api/tiles/premises/${ids.tile.join('/')}.mvt` }),
  'POST /api/premises/:id/photos': () => ({ url: `/api/premises/${ids.premisesIn}/photos?clientId=${randomUUID()}`, payload: tinyJpeg, headers: { 'content-type': 'image/jpeg' } }),
  'POST /api/hazards/:id/photos': async () => ({ url: `/api/hazards/${await freshHazard('found')}/photos?stage=found&clientId=${randomUUID()}`, payload: tinyJpeg, headers: { 'content-type': 'image/jpeg' } }),
  'GET /api/premises/:id/photos': () => ({ url: `/api/premises/${ids.premisesIn}/photos` }),
  // A photo of a hazard, which every role that sees the hazard may see.
  'GET /api/photos/:id': async () => ({ url: `/api/photos/${await insertPhoto(t.db.sql, { hazardId: await freshHazard('found'), stage: 'found' })}` }),
  'GET /api/photos/:id/thumb': async () => ({ url: `/api/photos/${await insertPhoto(t.db.sql, { hazardId: await freshHazard('found'), stage: 'found' })}/thumb` }),
  // Taken by the inspector: the inspector deletes their own, a commander any.
  'DELETE /api/photos/:id': async () => ({ url: `/api/photos/${await insertPhoto(t.db.sql, { premisesId: ids.premisesIn, stage: 'premises', createdBy: await userId(t.db.sql, 'inspector') })}` }),
  'GET /api/tasks/mine': () => ({ url: '/api/tasks/mine' }),
  'GET /api/offline/package': () => ({ url: '/api/offline/package' }),
  'GET /api/offline/basemap': () => ({ url: '/api/offline/basemap' }),
  'GET /api/tasks/': () => ({ url: '/api/tasks/' }),
  'GET /api/tasks/progress': () => ({ url: '/api/tasks/progress' }),
  'GET /api/tasks/assignees': () => ({ url: '/api/tasks/assignees' }),
  'POST /api/tasks/': async () => {
    await clearTasks(t.db.sql, [ids.premisesIn])
    return { url: '/api/tasks/', payload: { kind: 'inspect', assigneeId: await userId(t.db.sql, 'inspector'), dueOn: dayFromToday(7), premisesIds: [ids.premisesIn] } }
  },
  'POST /api/tasks/:id/cancel': async () => ({ url: `/api/tasks/${await insertTask(t.db.sql, { premisesId: ids.premisesIn, assigneeId: await userId(t.db.sql, 'inspector') })}/cancel`, payload: {} }),
  // Assigned to the inspector, the one role that works on tasks.
  'POST /api/tasks/:id/complete': async () => ({
    url: `/api/tasks/${await insertTask(t.db.sql, { premisesId: ids.premisesIn, assigneeId: await userId(t.db.sql, 'inspector'), kind: 'revisit' })}/complete`,
    payload: { clientId: randomUUID(), note: 'nobody changed anything' },
  }),
  'POST /api/readings/': () => ({ url: '/api/readings/?utility=electricity&fileName=r.csv', payload: readingsCsv(), headers: { 'content-type': 'text/csv' } }),
  'GET /api/readings/:id': async () => ({ url: `/api/readings/${await freshReadings()}` }),
  'POST /api/readings/:id/dry-run': async () => ({ url: `/api/readings/${await freshReadings()}/dry-run`, payload: readingsRun }),
  'POST /api/readings/:id/commit': async () => ({ url: `/api/readings/${await freshReadings()}/commit`, payload: readingsRun }),
  'GET /api/readings/:id/errors': async () => ({ url: `/api/readings/${await freshReadings()}/errors` }),
  'GET /api/readings/:id/unmatched': async () => ({ url: `/api/readings/${await freshReadings()}/unmatched` }),
  'DELETE /api/readings/:id': async () => ({ url: `/api/readings/${await freshReadings()}` }),
  'GET /api/leads/': () => ({ url: '/api/leads/?limit=5' }),
  'GET /api/leads/points': () => ({ url: '/api/leads/points?limit=5' }),
  'GET /api/leads/stats': () => ({ url: '/api/leads/stats' }),
  'GET /api/leads/models': () => ({ url: '/api/leads/models' }),
  'POST /api/leads/models': async () => {
    await visitedLeads()
    return { url: '/api/leads/models' }
  },
  'POST /api/leads/refresh': () => ({ url: '/api/leads/refresh' }),
  'GET /api/leads/:id': async () => ({ url: `/api/leads/${await freshLead()}` }),
  'POST /api/leads/tasks': async () => ({ url: '/api/leads/tasks', payload: { leadIds: [await freshLead()], assigneeId: await userId(t.db.sql, 'inspector'), dueOn: dayFromToday(7) } }),
  // Issued to the inspector, the one role that records visits.
  'POST /api/leads/:id/visits': async () => ({ url: `/api/leads/${await freshLead(true)}/visits`, payload: { outcome: 'not_rental' } }),
  'GET /api/views/': () => ({ url: '/api/views/?page=dashboard' }),
  'POST /api/views/': () => ({ url: '/api/views/', payload: { name: `matrix ${++userCounter}`, page: 'map', query: { kind: 'rental' } } }),
  'PATCH /api/views/:id': async role => ({ url: `/api/views/${await freshView(role)}`, payload: { shared: true } }),
  'DELETE /api/views/:id': async role => ({ url: `/api/views/${await freshView(role)}` }),
  'GET /api/supervision/items': () => ({ url: '/api/supervision/items?state=all' }),
  'GET /api/supervision/items/:id': async () => ({ url: `/api/supervision/items/${(await freshSupervision()).id}` }),
  'POST /api/supervision/items': async () => ({
    url: '/api/supervision/items',
    payload: { kind: 'hazard', hazardId: await freshMajorHazard(), unit: { kind: 'department', code: 'fire' }, responsiblePerson: '矩阵', reason: '矩阵测试', deadline: dayFromToday(10) },
  }),
  'POST /api/supervision/items/:id/close': async () => {
    const s = await freshSupervision(true)
    return { url: `/api/supervision/items/${s.id}/close`, payload: { note: '矩阵销号', photoIds: [s.photo] } }
  },
  'GET /api/supervision/notice.xlsx': () => ({ url: '/api/supervision/notice.xlsx' }),
  'GET /api/supervision/rules': () => ({ url: '/api/supervision/rules' }),
  'GET /api/supervision/accountability': () => ({ url: '/api/supervision/accountability' }),
  'GET /api/supervision/accountability.xlsx': () => ({ url: '/api/supervision/accountability.xlsx' }),
  'PUT /api/supervision/rules': () => ({ url: '/api/supervision/rules', payload: { rules: [{ fromLevel: 0, toLevel: 1, afterDays: 0, notify: 'jurisdiction' }, { fromLevel: 1, toLevel: 2, afterDays: 7, notify: 'district' }] } }),
  'GET /api/notices/': () => ({ url: '/api/notices/' }),
  'GET /api/notices/unread': () => ({ url: '/api/notices/unread' }),
  'POST /api/notices/:id/read': async () => ({ url: `/api/notices/${await ownNotice()}/read`, freshSession: true }),
  'POST /api/notices/:id/unread': async () => ({ url: `/api/notices/${await ownNotice()}/unread`, freshSession: true }),
  'POST /api/notices/read-all': () => ({ url: '/api/notices/read-all' }),
  'GET /api/notices/stream': () => ({ url: '/api/notices/stream?once=true' }),
  'POST /api/revisits/samples': () => ({ url: '/api/revisits/samples', payload: { subject: 'hazard', size: 1, seed: `matrix-${++userCounter}` } }),
  'GET /api/revisits/samples': () => ({ url: '/api/revisits/samples' }),
  'GET /api/revisits/samples/:id': async () => ({ url: `/api/revisits/samples/${(await freshRevisit()).sample}` }),
  'POST /api/revisits/items/:id/outcome': async () => ({ url: `/api/revisits/items/${(await freshRevisit()).item}/outcome`, payload: { outcome: 'still_rectified' } }),
  'GET /api/revisits/rates': () => ({ url: '/api/revisits/rates' }),
  'GET /api/acceptance/key-areas/:id': async () => ({ url: `/api/acceptance/key-areas/${(await emptyKeyArea()).keyArea}` }),
  'POST /api/acceptance/key-areas/:id': async () => ({
    url: `/api/acceptance/key-areas/${(await emptyKeyArea()).keyArea}`,
    payload: { checklist: Object.fromEntries(acceptanceChecklist.map(c => [c, true])) },
  }),
  'POST /api/acceptance/:id/decision': async () => ({ url: `/api/acceptance/${(await emptyKeyArea(true)).acceptance}/decision`, payload: { decision: 'accepted' } }),
  'GET /api/docs': () => ({ url: '/api/docs' }),
  'GET /api/docs/': () => ({ url: '/api/docs/' }),
  'GET /api/docs/json': () => ({ url: '/api/docs/json' }),
  'GET /api/docs/yaml': () => ({ url: '/api/docs/yaml' }),
  'GET /api/docs/static/*': () => ({ url: '/api/docs/static/swagger-ui.css' }),
  'GET /api/docs/static/index.html': () => ({ url: '/api/docs/static/index.html' }),
  'GET /api/docs/static/swagger-initializer.js': () => ({ url: '/api/docs/static/swagger-initializer.js' }),
  'GET /api/docs/*': () => ({ url: '/api/docs/static/swagger-ui.css' }),
}

const routeKey = (method: string, url: string) => `${method === 'HEAD' ? 'GET' : method} ${url}`

function sampleFor(method: string, url: string, role?: Role): Sample | Promise<Sample> {
  // A prefixed plugin's '/' route exists with and without the trailing slash.
  const make = samples[routeKey(method, url)] ?? samples[routeKey(method, `${url}/`)]
  if (!make) throw new Error(`no sample request for ${method} ${url}: add one to the access matrix`)
  return make(role)
}

async function call(method: string, url: string, cookie?: string, role?: Role) {
  const s = await sampleFor(method, url, role)
  return t.app.inject({ method: method as 'GET', url: s.url, payload: s.payload as Record<string, unknown>, headers: { ...s.headers, ...(cookie ? { cookie } : {}) } })
}

/** A report without the paper form's own text (column headings and notes), as JSON text. */
function withoutFormText(json: unknown): string {
  const strip = (t: Record<string, unknown>) => ({ ...t, columns: undefined, notes: undefined })
  const j = json as Record<string, unknown> & { tables?: Record<string, unknown>[] }
  return JSON.stringify(j.tables ? { ...j, tables: j.tables.map(strip) } : strip(j))
}

describe('the route table', () => {
  it('has a permission on every route (deny by default)', () => {
    const missing = t.app.routeTable.filter(r => !r.permission).map(r => `${r.method} ${r.url}`)
    expect(missing).toEqual([])
  })

  it('refuses a route that declares no permission, to everybody: signed out and every role', async () => {
    const { buildApp } = await import('../../server/app.js')
    const app = await buildApp({ db: t.db, keys: testKeys, extraRoutes: async (a) => { a.get('/api/undeclared', async () => ({ secret: true })) } })
    try {
      for (const who of [undefined, ...roles]) {
        const res = await app.inject({ url: '/api/undeclared', headers: who ? { cookie: cookies[who] } : {} })
        expect(res.statusCode, who ?? 'signed out').toBe(403)
        expect(res.json().reason).toBe('no-permission-declared')
      }
    }
    finally {
      await app.close()
    }
  })
})

describe('the role × route matrix', () => {
  it('answers 401 without a session on every non-public route', async () => {
    for (const r of t.app.routeTable) {
      const res = await call(r.method, r.url)
      if (r.permission === 'public') expect(res.statusCode, `${r.method} ${r.url}`).not.toBe(401)
      else {
        expect(res.statusCode, `${r.method} ${r.url}`).toBe(401)
        if (r.method !== 'HEAD') expect(res.json().reason).toBe('signin-required')
      }
    }
  })

  // One test per role, so that each stays well inside the time limit on a busy machine.
  it.each(roles)('allows the %s exactly the routes its permissions cover', async (role) => {
    const failures: string[] = []
    for (const r of t.app.routeTable) {
      const s = await sampleFor(r.method, r.url, role)
      const cookie = s.freshSession ? await signIn(t.app, role) : cookies[role]
      const res = await call(r.method, r.url, cookie, role)
      const allowed = can(role, r.permission as Permission)
      const ok = allowed ? res.statusCode < 400 : res.statusCode === 403
      if (!ok) failures.push(`${role} ${r.method} ${r.url}: ${res.statusCode} (${allowed ? 'allowed' : 'not allowed'}) ${res.body.slice(0, 120)}`)
    }
    expect(failures).toEqual([])
  })

  it('makes records outside a town user\'s jurisdiction not exist (404), inside found (200)', async () => {
    for (const role of ['commander', 'inspector'] as const) {
      const c = { cookie: cookies[role] }
      expect((await t.app.inject({ url: `/api/premises/${ids.premisesIn}`, headers: c })).statusCode).toBe(200)
      expect((await t.app.inject({ url: `/api/premises/${ids.premisesOut}`, headers: c })).statusCode).toBe(404)
      expect((await t.app.inject({ url: `/api/premises/${ids.premisesIn}/residents`, headers: c })).statusCode).toBe(200)
      expect((await t.app.inject({ url: `/api/premises/${ids.premisesOut}/residents`, headers: c })).statusCode).toBe(404)
      const reveal = (id: number) => t.app.inject({ method: 'POST', url: `/api/residents/${id}/reveal`, headers: c, payload: { reason: 'checking a ledger entry' } })
      expect((await reveal(ids.residentIn)).statusCode).toBe(200)
      expect((await reveal(ids.residentOut)).statusCode).toBe(404)
    }
    // District-wide roles see both.
    expect((await t.app.inject({ url: `/api/premises/${ids.premisesOut}`, headers: { cookie: cookies.leader } })).statusCode).toBe(200)
  })

  it('filters lists and figures by jurisdiction in SQL', async () => {
    const mine = (await t.app.inject({ url: '/api/premises/?limit=100000', headers: { cookie: cookies.commander } })).json()
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from premises where town_id = ${ids.townIn}`
    expect(mine.features).toHaveLength(n!.n)
    const summary = (await t.app.inject({ url: '/api/stats/summary', headers: { cookie: cookies.commander } })).json()
    expect(summary.scope).toBe('town')
    expect(summary.towns.map((x: { id: number }) => x.id)).toEqual([ids.townIn])
    expect(summary.district.counts).toEqual(summary.towns[0].counts)
    const everyone = (await t.app.inject({ url: '/api/stats/summary', headers: { cookie: cookies.leader } })).json()
    const town = everyone.towns.find((x: { id: number }) => x.id === ids.townIn)
    expect(summary.towns[0].counts).toEqual(town.counts)
  })

  it('finds residents by exact ID number within the jurisdiction only', async () => {
    const [r] = await t.db.sql<{ idNumberCipher: Uint8Array }[]>`select id_number_cipher from resident where id = ${ids.residentIn}`
    const idNumber = decryptIdNumber(testKeys, r!.idNumberCipher)
    const search = (cookie: string) => t.app.inject({ method: 'POST', url: '/api/residents/search', headers: { cookie }, payload: { idNumber: ` ${idNumber.toLowerCase()} ` } })
    const found = (await search(cookies.inspector)).json()
    expect(found.map((x: { id: number }) => x.id)).toContain(ids.residentIn)
    expect(JSON.stringify(found)).not.toContain(idNumber)
    const [o] = await t.db.sql<{ idNumberCipher: Uint8Array }[]>`select id_number_cipher from resident where id = ${ids.residentOut}`
    const outside = await t.app.inject({ method: 'POST', url: '/api/residents/search', headers: { cookie: cookies.inspector }, payload: { idNumber: decryptIdNumber(testKeys, o!.idNumberCipher) } })
    expect(outside.json().map((x: { id: number }) => x.id)).not.toContain(ids.residentOut)
  })
})

describe('personal data', () => {
  it('shows inspectors the residents\' names, phones and masked ID numbers, never the full number', async () => {
    const res = await t.app.inject({ url: `/api/premises/${ids.premisesIn}/residents`, headers: { cookie: cookies.inspector } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const rows = res.json()
    const stored = await t.db.sql<{ id: number; name: string; phone: string | null; idNumberCipher: Uint8Array }[]>`
      select id, name, phone, id_number_cipher from resident where premises_id = ${ids.premisesIn}`
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.some((r: { phone: string | null }) => r.phone)).toBe(true)
    for (const r of rows) {
      const row = stored.find(s => s.id === r.id)!
      expect(r.name).toBe(row.name)
      expect(r.phone).toBe(row.phone)
      expect(r.idNumberMasked).toMatch(/^.{3}\*+.{4}$/)
      expect(Array.isArray(r.specialCategories)).toBe(true)
      expect(res.body).not.toContain(decryptIdNumber(testKeys, row.idNumberCipher))
    }
  })

  it('gives owners and second landlords to the roles that see people (inspectors and commanders) only', async () => {
    const people = ['ownerName', 'ownerPhone', 'secondLandlordName', 'secondLandlordPhone']
    const [stored] = await t.db.sql<{ ownerName: string }[]>`select owner_name from premises where id = ${ids.premisesIn}`
    for (const role of roles) {
      const body = (await t.app.inject({ url: `/api/premises/${ids.premisesIn}`, headers: { cookie: cookies[role] } })).json()
      const sees = can(role, 'people:read')
      expect(people.filter(k => k in body), role).toEqual(sees ? people : [])
      if (sees) expect(body.ownerName, role).toBe(stored!.ownerName)
      expect(body.residentsLiving, role).toBeGreaterThan(0)
    }
    expect(roles.filter(r => can(r, 'people:read'))).toEqual(['commander', 'inspector'])
  })

  it('reveals a full ID number only with a reason, and logs who, when and why', async () => {
    const noReason = await t.app.inject({ method: 'POST', url: `/api/residents/${ids.residentIn}/reveal`, headers: { cookie: cookies.commander }, payload: {} })
    expect(noReason.statusCode).toBe(400)
    expect(noReason.json().message).toMatch(/reason/)
    const res = await t.app.inject({ method: 'POST', url: `/api/residents/${ids.residentIn}/reveal`, headers: { cookie: cookies.commander }, payload: { reason: 'verify identity at the door' } })
    expect(res.statusCode).toBe(200)
    const { idNumber } = res.json()
    const [type] = await t.db.sql<{ idType: string }[]>`select id_type from resident where id = ${ids.residentIn}`
    if (type!.idType === 'resident_id') expect(residentIdProblem(idNumber)).toBeNull()
    const [row] = await t.db.sql<{ username: string; reason: string; at: Date }[]>`
      select username, reason, at from audit_log where action = 'resident.reveal-id' and entity_id = ${String(ids.residentIn)} order by id desc limit 1`
    expect(row).toMatchObject({ username: 'commander', reason: 'verify identity at the door' })
    expect(Date.now() - row!.at.getTime()).toBeLessThan(60_000)
  })

  /** Every resident's and owner's name, ID number and phone, as the crawler looks for them. */
  async function personalData(): Promise<string[]> {
    const sql = t.db.sql
    const residents = await sql<{ name: string; phone: string | null; idNumberMasked: string; idNumberCipher: Uint8Array }[]>`
      select name, phone, id_number_masked, id_number_cipher from resident`
    const owners = await sql<{ n: string | null; p: string | null }[]>`
      select unnest(array[owner_name, second_landlord_name]) as n, unnest(array[owner_phone, second_landlord_phone]) as p from premises`
    // Names that are also part of a place name cannot be told apart from it in bytes; leave those out.
    const places = (await sql<{ n: string }[]>`
      select name_zh as n from admin_area union all select name_zh from poi union all select name_zh from police_station
      union all select name_zh from key_area union all select coalesce(other_text, '') from hazard`).map(r => r.n).join('\n')
    const names = [...new Set([...residents.map(r => r.name), ...owners.map(o => o.n).filter((n): n is string => !!n)])].filter(n => !places.includes(n))
    return [
      ...names,
      ...residents.flatMap(r => [r.idNumberMasked, decryptIdNumber(testKeys, r.idNumberCipher)]),
      ...[...residents.map(r => r.phone), ...owners.map(o => o.p)].filter((p): p is string => !!p),
    ]
  }
  let personal: Promise<string[]> | undefined

  /**
   * The first secret found in a body. Every substring of each secret length is looked up in a set:
   * linear in the body for the few lengths there are, where testing each of ~25,000 secrets with
   * includes() took most of a minute per role on a busy machine.
   */
  function findSecret(body: string, secrets: Set<string>, lengths: number[]): string | undefined {
    for (const n of lengths) {
      for (let i = 0; i + n <= body.length; i++) {
        const piece = body.slice(i, i + n)
        if (secrets.has(piece)) return piece
      }
    }
    return undefined
  }

  // One test per role, so that each stays well inside the time limit on a busy machine.
  it.each(['leader', 'analyst'] as const)('never sends a resident\'s name, ID number, phone or special category to the %s (crawler)', async (role) => {
    personal ??= personalData()
    const list = await personal
    const secrets = new Set(list)
    const lengths = [...new Set(list.map(x => x.length))]
    // Per-person flags in any spelling. A key area's hand-entered totals (mentalIllnessCount,
    // personsOfConcernCount) are counts over many households, which leaders may see.
    const flags = [/mental_illness/, /person_of_concern/, /mentalIllness(?!Count)/, /personOfConcern/, /specialCategories/, /精神病/, /关注对象/]
    let crawled = 0
    for (const r of t.app.routeTable.filter(x => x.method === 'GET' && can(role, x.permission as Permission))) {
      const res = await call('GET', r.url, cookies[role])
      const body = res.body
      crawled++
      // The API documentation (and its copy for GIS clients, /ogc/api) names the fields (not their
      // values) and may mention the flags; the biweekly tables' headers and notes name the classes
      // they count (counts over many people).
      const scanned = r.url.startsWith('/api/reports/') && String(res.headers['content-type'] ?? '').includes('json') ? withoutFormText(res.json()) : body
      if (!r.url.startsWith('/api/docs') && r.url !== '/ogc/api') for (const f of flags) expect(f.test(scanned), `${role} GET ${r.url} contains ${f}`).toBe(false)
      const leaked = findSecret(body, secrets, lengths)
      expect(leaked, `${role} GET ${r.url} leaks personal data`).toBeUndefined()
    }
    expect(crawled).toBeGreaterThan(8)
  })

  it('marks the answer of every GET route under /api as not to be stored, signed in or not (map tiles and the documentation\'s files aside)', async () => {
    // What holds no personal data, once signed in: tiles (the browser may keep them and ask with their
    // ETag whether they are still current) and the files of the Swagger UI package the documentation page loads.
    const expected = (url: string, signedIn: boolean) => !signedIn ? 'no-store'
      : url.startsWith('/api/tiles/') ? 'private, no-cache' : url === '/api/docs/static/*' ? 'public, max-age=0' : 'no-store'
    const failures: string[] = []
    const routes = t.app.routeTable.filter(r => r.method === 'GET' && r.url.startsWith('/api/'))
    for (const r of routes) {
      const role = roles.find(x => can(x, r.permission as Permission))!
      for (const cookie of [cookies[role], undefined]) {
        const res = await call(r.method, r.url, cookie, role)
        if (res.headers['cache-control'] !== expected(r.url, !!cookie)) failures.push(`${r.method} ${r.url} ${cookie ? `as ${role}` : 'signed out'}: ${res.statusCode}, Cache-Control ${res.headers['cache-control']}`)
      }
    }
    expect(failures).toEqual([])
    expect(routes.length).toBeGreaterThan(40)
  })
})

describe('sessions and sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict cookie, Secure behind TLS', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'leader', password: 'demo1234' } })
    const c = res.cookies.find(x => x.name === 'grd_session')!
    expect(c.httpOnly).toBe(true)
    expect(c.sameSite).toBe('Strict')
    expect(c.secure).toBeFalsy()
    const { buildApp } = await import('../../server/app.js')
    const proxied = await buildApp({ db: t.db, keys: testKeys, trustProxy: true })
    const tls = await proxied.inject({ method: 'POST', url: '/api/auth/login', headers: { 'x-forwarded-proto': 'https' }, payload: { username: 'leader', password: 'demo1234' } })
    expect(tls.cookies.find(x => x.name === 'grd_session')!.secure).toBe(true)
    await proxied.close()
  })

  it('answers who is signed in, with role, jurisdiction and permissions', async () => {
    const me = (await t.app.inject({ url: '/api/auth/me', headers: { cookie: cookies.commander } })).json()
    expect(me).toMatchObject({ username: 'commander', role: 'commander', jurisdiction: { kind: 'town', id: ids.townIn, nameZh: '三井街道' } })
    expect(me.permissions).toContain('key-areas:write')
    expect(me.permissions).not.toContain('users:admin')
  })

  it('refuses a signed-out (revoked) session and an expired one, saying which', async () => {
    const cookie = await signIn(t.app, 'analyst')
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } })).statusCode).toBe(204)
    const revoked = await t.app.inject({ url: '/api/auth/me', headers: { cookie } })
    expect(revoked.statusCode).toBe(401)
    expect(revoked.json().reason).toBe('session-revoked')

    const idle = await signIn(t.app, 'analyst')
    await t.db.sql`update user_session set last_seen_at = now() - interval '2 hours' where token_hash = sha256(convert_to(${idle.split('=')[1]!}, 'UTF8'))`
    const expired = await t.app.inject({ url: '/api/auth/me', headers: { cookie: idle } })
    expect(expired.statusCode).toBe(401)
    expect(expired.json().reason).toBe('session-expired')
    expect(expired.json().message).toMatch(/expired/)

    const old = await signIn(t.app, 'analyst')
    await t.db.sql`update user_session set created_at = now() - interval '13 hours', expires_at = now() - interval '1 hour' where token_hash = sha256(convert_to(${old.split('=')[1]!}, 'UTF8'))`
    expect((await t.app.inject({ url: '/api/auth/me', headers: { cookie: old } })).json().reason).toBe('session-expired')
  })

  it('ends a user\'s sessions when an administrator disables the account', async () => {
    const cookie = await signIn(t.app, 'throwaway', 'another-long-pw').catch(() => signIn(t.app, 'throwaway', 'a-long-secret'))
    const res = await t.app.inject({ method: 'PATCH', url: `/api/users/${ids.throwawayUser}`, headers: { cookie: cookies.admin }, payload: { disabled: true } })
    expect(res.statusCode).toBe(200)
    expect(res.json().disabled).toBe(true)
    expect((await t.app.inject({ url: '/api/auth/me', headers: { cookie } })).statusCode).toBe(401)
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'throwaway', password: 'another-long-pw' } })
    expect(login.statusCode).toBe(401)
    await t.app.inject({ method: 'PATCH', url: `/api/users/${ids.throwawayUser}`, headers: { cookie: cookies.admin }, payload: { disabled: false } })
  })

  it('slows repeated bad passwords, then locks the name, for real and unknown names alike', async () => {
    for (const username of ['inspector', 'no-such-user']) {
      const bad = () => t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'wrong-password' } })
      const statuses: number[] = []
      const started = Date.now()
      let last
      for (let i = 0; i < 5; i++) {
        last = await bad()
        statuses.push(last.statusCode)
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401])
      expect(last!.json().message).toMatch(/locked for 15 minutes/)
      // The 4th and 5th attempts were held back.
      expect(Date.now() - started).toBeGreaterThan(1400)
      const right = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'demo1234' } })
      expect(right.statusCode).toBe(429)
      expect(right.json().message).toMatch(/try again in 15 minutes/)
      expect(right.headers['retry-after']).toBe('900')
    }
    await t.db.sql`delete from login_throttle`
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'inspector', password: 'demo1234' } })).statusCode).toBe(200)
  })

  it('lists demo accounts only in demo mode', async () => {
    const demo = (await t.app.inject('/api/auth/demo')).json()
    expect(demo.demo).toBe(true)
    expect(demo.users.map((u: { username: string }) => u.username)).toEqual(['leader', 'commander', 'bureau', 'analyst', 'inspector', 'admin'])
    const plain = await buildTestApp({ template: 'migrated' })
    try {
      expect((await plain.app.inject('/api/auth/demo')).json()).toEqual({ demo: false, password: null, users: [] })
      const [n] = await plain.db.sql<{ n: number }[]>`select count(*)::int as n from app_user`
      expect(n!.n).toBe(0)
    }
    finally {
      await plain.close()
    }
  })
})

describe('users administration', () => {
  it('creates a user with a jurisdiction, refuses bad input with a reason, and audits before and after', async () => {
    const admin = { cookie: cookies.admin }
    const [station] = await t.db.sql<{ id: number }[]>`select id from police_station order by id limit 1`
    const ok = await t.app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: 'Station.Lead', displayName: '所长', role: 'commander', jurisdiction: { kind: 'police_station', id: station!.id }, password: 'secret-enough' } })
    expect(ok.statusCode).toBe(201)
    expect(ok.json()).toMatchObject({ username: 'station.lead', role: 'commander', jurisdiction: { kind: 'police_station', id: station!.id } })
    const cases: [unknown, number, RegExp][] = [
      [{ username: 'station.lead', displayName: 'x', role: 'leader', jurisdiction: { kind: 'district' }, password: 'secret-enough' }, 409, /taken/],
      [{ username: 'a', displayName: 'x', role: 'leader', jurisdiction: { kind: 'district' }, password: 'secret-enough' }, 400, /username/],
      [{ username: 'bob', displayName: 'x', role: 'king', jurisdiction: { kind: 'district' }, password: 'secret-enough' }, 400, /role/],
      [{ username: 'bob', displayName: 'x', role: 'leader', jurisdiction: { kind: 'town' }, password: 'secret-enough' }, 400, /needs the id/],
      [{ username: 'bob', displayName: 'x', role: 'leader', jurisdiction: { kind: 'town', id: 999999 }, password: 'secret-enough' }, 400, /no current town/],
      [{ username: 'bob', displayName: 'x', role: 'leader', jurisdiction: { kind: 'district' }, password: 'short' }, 400, /password/],
      [{ username: 'bob', displayName: 'x', role: 'leader', jurisdiction: { kind: 'district' }, password: 'bob-is-my-name' }, 400, /must not contain the user name/],
    ]
    for (const [payload, status, message] of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: payload as Record<string, unknown> })
      expect(res.statusCode, JSON.stringify(payload)).toBe(status)
      expect(res.json().message).toMatch(message)
    }
    const [bob] = await t.db.sql`select 1 from app_user where username = 'bob'`
    expect(bob).toBeUndefined()
    const [audit] = await t.db.sql<{ after: { username: string; passwordHash?: string } }[]>`
      select after from audit_log where action = 'user.create' and entity_id = ${String(ok.json().id)}`
    expect(audit!.after.username).toBe('station.lead')
    expect(audit!.after.passwordHash).toBeUndefined()
  })

  it('refuses an administrator disabling their own account', async () => {
    const [me] = await t.db.sql<{ id: number }[]>`select id from app_user where username = 'admin'`
    const res = await t.app.inject({ method: 'PATCH', url: `/api/users/${me!.id}`, headers: { cookie: cookies.admin }, payload: { disabled: true } })
    expect(res.statusCode).toBe(409)
  })

  it('searches the audit trail by user, record and time', async () => {
    const res = await t.app.inject({ url: '/api/audit?user=commander&entity=resident&limit=50', headers: { cookie: cookies.admin } })
    expect(res.statusCode).toBe(200)
    const rows = res.json()
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) {
      expect(r.username).toBe('commander')
      expect(r.entity).toBe('resident')
    }
    const future = new Date(Date.now() + 3_600_000).toISOString()
    expect((await t.app.inject({ url: `/api/audit?from=${encodeURIComponent(future)}`, headers: { cookie: cookies.admin } })).json()).toEqual([])
    expect((await t.app.inject({ url: '/api/audit?from=yesterday', headers: { cookie: cookies.admin } })).statusCode).toBe(400)
  })
})

describe('the audit trail', () => {
  it('has a row for every write this suite made: accounts, sessions, reveals, denials', async () => {
    const sql = t.db.sql
    const [users] = await sql<{ missing: number }[]>`
      select count(*)::int as missing from app_user u where not u.is_demo
        and not exists (select 1 from audit_log a where a.action = 'user.create' and a.entity_id = u.id::text)`
    expect(users!.missing).toBe(0)
    const [sessions] = await sql<{ missing: number }[]>`
      select count(*)::int as missing from user_session s
      where not exists (select 1 from audit_log a where a.action = 'auth.login' and a.entity = 'session' and a.entity_id = s.id::text)`
    expect(sessions!.missing).toBe(0)
    const [revoked] = await sql<{ missing: number }[]>`
      select count(*)::int as missing from user_session s where s.revoked_at is not null
        and not exists (select 1 from audit_log a where a.entity_id in (s.id::text, s.user_id::text)
                          and a.action in ('auth.logout', 'user.update', 'user.password-reset', 'user.revoke-sessions'))`
    expect(revoked!.missing).toBe(0)
    const [denied] = await sql<{ n: number }[]>`select count(*)::int as n from audit_log where outcome = 'denied' and action = 'request.denied'`
    expect(denied!.n).toBeGreaterThan(10)
    const [changes] = await sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'user.update' and before is not null and after is not null`
    expect(changes!.n).toBeGreaterThan(0)
  })

  // The app's own role may not even try (tests/server/roles.test.ts); the trigger stops the owner too.
  it('cannot be changed or deleted, even by the owner of the table', async () => {
    await expect(t.db.owner`update audit_log set reason = 'tampered' where id = (select min(id) from audit_log)`).rejects.toThrow(/append-only/)
    await expect(t.db.owner`delete from audit_log where id = (select min(id) from audit_log)`).rejects.toThrow(/append-only/)
  })
})

describe('transport rules', () => {
  it('sends a Content-Security-Policy that allows blob: workers and nothing outside this origin', async () => {
    const res = await t.app.inject('/api/health')
    const csp = res.headers['content-security-policy'] as string
    expect(csp).toContain("default-src 'self'")
    expect(csp).toMatch(/worker-src 'self' blob:/)
    expect(csp).not.toMatch(/https?:/)
    expect(res.headers['x-content-type-options']).toBe('nosniff')
  })

  // The headers are worked out once at start-up (security.ts), not per request: every answer carries them all the same.
  it('sends the same security headers on every answer: refused, not found, errors included', async () => {
    const first = await t.app.inject('/api/health')
    const names = ['content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy']
    for (const name of names) expect([name, first.headers[name]]).toEqual([name, expect.any(String)])
    for (const url of ['/api/premises/1', '/api/no-such-route', '/api/premises?bbox=1,2']) {
      const res = await t.app.inject(url)
      expect(res.statusCode).toBeGreaterThanOrEqual(400)
      for (const name of names) expect([url, name, res.headers[name]]).toEqual([url, name, first.headers[name]])
    }
    expect(first.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/)
    expect(first.headers['x-frame-options']).toBe('SAMEORIGIN')
    expect(first.headers['strict-transport-security']).toBeUndefined()
  })

  it('refuses bodies over the size limit with 413', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ username: 'x', password: 'y'.repeat(2_000_000) }) })
    expect(res.statusCode).toBe(413)
  })
})
