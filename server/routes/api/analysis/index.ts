import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { today as todayInDistrict } from '../../../domain/calendar.js'
import { type ExportColumn, type ExportFormat, exportTypes, toCsv, toXlsx } from '../../../domain/exports.js'
import { badRequest } from '../../../lib/http-errors.js'
import { mapFilterFrom } from '../../../plugins/app/premises-filter.js'
import type { ClusterOf } from '../../../plugins/app/analysis.js'
import { keyAreaViewer } from '../../../plugins/app/key-areas-scope.js'
import { ClusterOfSchema, ClustersSchema, EpsSchema, MinPointsSchema, ProposalInputSchema, ProposalResultSchema, RingsSchema } from '../../../schemas/analysis.js'
import { errors } from '../../../schemas/common.js'
import { MapFilterProperties } from '../../../schemas/premises.js'

const poiKinds = 'campus|factory|urban_village|urban_rural_fringe|resettlement_estate|underground_space'
const Format = Type.Union([Type.Literal('geojson'), Type.Literal('csv'), Type.Literal('xlsx')], { default: 'geojson', description: 'geojson, csv or xlsx (a download)' })

const RingsQuery = Type.Object({
  ...MapFilterProperties,
  kinds: Type.String({ pattern: `^(${poiKinds})(,(${poiKinds}))*$`, default: 'campus,factory,urban_village', description: 'Kinds of place, comma-separated' }),
  radii: Type.String({ pattern: '^\\d{1,5}(,\\d{1,5}){0,4}$', default: '300,500,1000', description: 'Up to 5 radii in metres, 50 to 5000' }),
  format: Format,
}, { additionalProperties: false })

const ClustersQuery = Type.Object({
  ...MapFilterProperties,
  eps: { ...EpsSchema, default: 150 },
  minPoints: { ...MinPointsSchema, default: 8 },
  of: { ...ClusterOfSchema, default: 'group-rentals' },
  format: Format,
}, { additionalProperties: false })

const ringColumns: ExportColumn[] = [
  { key: 'rank', header: '排名 rank', width: 8 }, { key: 'nameZh', header: '重点部位', width: 28 }, { key: 'nameEn', header: 'place', width: 32 },
  { key: 'kind', header: '类型 kind', width: 18 }, { key: 'radius', header: '半径（米） radius m', width: 14 },
  { key: 'groupRentals', header: '群租房 group rentals' }, { key: 'openMajor', header: '重大隐患未整改 open major' },
  { key: 'openHazards', header: '隐患未整改 open hazards' }, { key: 'people', header: '居住人数 people' }, { key: 'premises', header: '场所 premises' },
  { key: 'lon', header: '经度 lon' }, { key: 'lat', header: '纬度 lat' },
]
const clusterColumns: ExportColumn[] = [
  { key: 'cluster', header: '聚集区 cluster', width: 10 }, { key: 'points', header: '点数 points' }, { key: 'premises', header: '场所 premises' },
  { key: 'groupRentals', header: '群租房 group rentals' }, { key: 'openMajor', header: '重大隐患未整改 open major' },
  { key: 'openHazards', header: '隐患未整改 open hazards' }, { key: 'people', header: '居住人数 people' },
  { key: 'nearestNameZh', header: '最近重点部位', width: 28 }, { key: 'nearestKind', header: '类型 kind', width: 16 },
  { key: 'nearestMetres', header: '距离（米） distance m' }, { key: 'townId', header: '镇街 town id' },
]

/** A result as GeoJSON, or as a CSV or XLSX download of its features' properties. */
async function send(reply: FastifyReply, format: ExportFormat, name: string, title: string, columns: ExportColumn[], fc: { features: { properties: Record<string, unknown> }[] }, note: string): Promise<void> {
  reply.type(exportTypes[format])
  if (format === 'geojson') {
    await reply.send(fc)
    return
  }
  const rows = fc.features.map(f => f.properties)
  reply.header('Content-Disposition', `attachment; filename="${name}.${format}"`)
  await reply.send(format === 'csv' ? toCsv(columns, rows) : await toXlsx(title, columns, rows, note))
}

/** Rings around places and density clusters: counts and places, never people. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/rings', {
    config: { permission: 'analysis:run' },
    schema: {
      tags: ['analysis'], summary: 'Group rentals, open hazards and people within rings of true metres around places, ranked',
      querystring: RingsQuery, response: { 200: RingsSchema, ...errors(400, 401, 403) },
    },
  }, async (req, reply) => {
    const { kinds, radii, format, ...rest } = req.query
    const rs = [...new Set(radii.split(',').map(Number))].sort((a, b) => a - b)
    const bad = rs.find(r => r < 50 || r > 5000)
    if (bad !== undefined) throw badRequest(`radius ${bad} m is outside 50 to 5000 m`, `半径 ${bad} 米不在 50～5000 米之间`)
    const { filter, on } = await mapFilterFrom(app, rest)
    const fc = await app.analysis.rings(app.userOf(req).jurisdiction, filter, on, kinds.split(','), rs)
    await send(reply, format, 'rings', '重点部位周边统计 Rings around places', ringColumns, fc, `截至 ${on}；半径 ${rs.join('、')} 米`)
  })

  app.get('/clusters', {
    config: { permission: 'analysis:run' },
    schema: {
      tags: ['analysis'], summary: 'Density clusters (DBSCAN, metres) of group rentals or open hazards, as hulls with their counts and nearest place',
      querystring: ClustersQuery, response: { 200: ClustersSchema, ...errors(400, 401, 403) },
    },
  }, async (req, reply) => {
    const { eps, minPoints, of, format, ...rest } = req.query
    const { filter, on } = await mapFilterFrom(app, rest)
    const fc = await app.analysis.clusters(app.userOf(req).jurisdiction, filter, on, of as ClusterOf, eps, minPoints)
    await send(reply, format, 'clusters', '聚集区分析 Clusters', clusterColumns, fc, `截至 ${on}；${of}；eps ${eps} 米；minPoints ${minPoints}`)
  })

  app.post('/proposals', {
    config: { permission: 'analysis:run' },
    schema: {
      tags: ['analysis'],
      summary: 'Propose a cluster as a key area: a draft seen only by the commanders of its town, with the analysis parameters recorded; '
        + 'the boundary is checked like a drawn one, and the same cluster proposed again while still a draft is refused (409)',
      body: ProposalInputSchema,
      response: { 201: ProposalResultSchema, ...errors(400, 401, 403, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const campaign = await app.campaign.current()
    const name = req.body.nameZh ?? `聚集区建议 ${todayInDistrict()}`
    let told: Awaited<ReturnType<typeof app.notices.add>> = []
    const result = await app.writeTx(req, async (tx) => {
      const r = await app.keyAreas.propose(tx, { ...keyAreaViewer(user), id: user.id, username: user.username }, campaign.id, req.body.geometry, name, req.body.parameters)
      await app.audit.record(tx, req, { action: 'key-area.propose', entity: 'key_area', entityId: r.keyAreaId, after: { townId: r.townId, nameZh: name, parameters: req.body.parameters } })
      told = await app.notices.toTownCommanders(tx, r.townId, 'key-area-proposal', { keyAreaId: r.keyAreaId, townId: r.townId }, `key-area:${r.keyAreaId}`)
      return r
    })
    app.notices.deliver(told)
    return reply.status(201).send(result)
  })
}
export default routes
