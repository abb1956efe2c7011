import type { Server } from 'node:http'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { notFound, parseBbox } from '../../lib/http-errors.js'
import { keyAreaViewer } from '../../plugins/app/key-areas-scope.js'
import type { CollectionInfo } from '../../plugins/app/ogc.js'
import { BboxString, errors, Id, Offset } from '../../schemas/common.js'

/**
 * OGC API - Features (Part 1: Core, GeoJSON), read-only, so that QGIS and GDAL (`ogrinfo
 * OAPIF:http://host/ogc`) read the premises (no personal data), key areas, areas and points of
 * interest. Signed-in users only: the session cookie, or HTTP Basic credentials for GIS clients.
 * Links are absolute, built from PUBLIC_URL or the address the server listens on, never from the
 * request's Host header (which the client chooses); answers are never cached (they depend on who asks).
 */

const geojson = 'application/geo+json'
const json = 'application/json'
const crs84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'

/** OGC documents are described by the OGC's own schemas; here they pass through as they are. */
const Document = Type.Unknown()

/**
 * A page of features, by default: desktop GIS reads whole layers, and GDAL takes the default it
 * finds here (at 10 a page, 5,000 premises took it 12 s). The most a page holds is advertised in
 * the API definition (service-desc) beside it.
 */
export const ogcPageSize = { default: 1000, maximum: 10_000 } as const

const ItemsQuery = Type.Object({
  bbox: Type.Optional(BboxString),
  limit: Type.Integer({ minimum: 1, maximum: ogcPageSize.maximum, default: ogcPageSize.default, description: `Features per page (1 to ${ogcPageSize.maximum.toLocaleString('en')}, ${ogcPageSize.default.toLocaleString('en')} unless asked)` }),
  offset: Offset('Features to skip: the next link carries it'),
  f: Type.Optional(Type.String({ description: 'json (the only encoding)' })),
}, { additionalProperties: true })

/** The address the server listens on, as an origin for links (before it listens: the loopback address). */
function listeningOrigin(server: Server): string {
  const a = server.address()
  if (a === null || typeof a === 'string') return 'http://127.0.0.1'
  // A wildcard address is nowhere to send a client; the loopback one at least works on this machine.
  const host = a.address === '0.0.0.0' ? '127.0.0.1' : a.address === '::' ? '::1' : a.address
  return `http://${host.includes(':') ? `[${host}]` : host}:${a.port}`
}

const routes: FastifyPluginAsyncTypebox<{ publicUrl?: string }> = async (app, opts) => {
  /** Where the service is reached: PUBLIC_URL, or the listening address; never the request's Host header. */
  const origin = () => opts.publicUrl ?? listeningOrigin(app.server)
  /** Absolute links, as GIS clients follow them. */
  const base = () => `${origin()}/ogc`

  // What a user may see depends on who asks: no shared or browser cache may keep it.
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('Cache-Control', 'no-store')
    return payload
  })
  const describe = async (c: CollectionInfo) => ({
    id: c.id, title: c.title, description: c.description, itemType: 'feature', crs: [crs84],
    extent: { spatial: { bbox: [await app.ogc.districtExtent()], crs: crs84 } },
    links: [
      { href: `${base()}/collections/${c.id}`, rel: 'self', type: json, title: c.title },
      { href: `${base()}/collections/${c.id}/items`, rel: 'items', type: geojson, title: `${c.title} (GeoJSON)` },
    ],
  })
  const collectionOf = (id: string) => {
    const c = app.ogc.collection(id)
    if (!c) throw notFound(`there is no collection "${id}"; the collections are ${app.ogc.collections().map(x => x.id).join(', ')}`, `没有名为“${id}”的图层集合`)
    return c
  }

  app.get('/', {
    config: { permission: 'map:read' },
    schema: { tags: ['ogc'], summary: 'OGC API - Features landing page', response: { 200: Document } },
  }, async () => ({
    title: '群租房安全隐患整治 OGC API - Features',
    description: 'Premises, key areas, areas and points of interest of the group-rental safety campaign, read-only.',
    links: [
      { href: `${base()}`, rel: 'self', type: json, title: 'This document' },
      { href: `${base()}/api`, rel: 'service-desc', type: 'application/vnd.oai.openapi+json;version=3.0', title: 'The API definition' },
      { href: `${origin()}/api/docs`, rel: 'service-doc', type: 'text/html', title: 'The API documentation' },
      { href: `${base()}/conformance`, rel: 'conformance', type: json, title: 'Conformance classes' },
      { href: `${base()}/collections`, rel: 'data', type: json, title: 'Collections' },
    ],
  }))

  // The API definition under /ogc, so that it answers the HTTP Basic credentials a GIS client
  // signs in with, as the rest of /ogc does (/api/docs takes the web app's session only).
  app.get('/api', {
    config: { permission: 'map:read' },
    schema: { tags: ['ogc'], summary: 'The API definition (OpenAPI 3), with the page sizes the items take', response: { 200: Document } },
  }, async (_req, reply) => reply.type('application/vnd.oai.openapi+json;version=3.0').send(JSON.stringify(app.swagger())))

  app.get('/conformance', {
    config: { permission: 'map:read' },
    schema: { tags: ['ogc'], summary: 'The conformance classes implemented', response: { 200: Document } },
  }, async () => ({
    conformsTo: [
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
    ],
  }))

  app.get('/collections', {
    config: { permission: 'map:read' },
    schema: { tags: ['ogc'], summary: 'The feature collections', response: { 200: Document } },
  }, async () => ({
    links: [{ href: `${base()}/collections`, rel: 'self', type: json, title: 'Collections' }],
    collections: await Promise.all(app.ogc.collections().map(c => describe(c))),
  }))

  app.get('/collections/:collectionId', {
    config: { permission: 'map:read' },
    schema: { tags: ['ogc'], summary: 'One feature collection', params: Type.Object({ collectionId: Type.String() }), response: { 200: Document, ...errors(404) } },
  }, async req => describe(collectionOf(req.params.collectionId)))

  app.get('/collections/:collectionId/items', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['ogc'],
      summary: 'Features of a collection, a page at a time, optionally inside a bounding box (WGS-84 / CRS84)',
      params: Type.Object({ collectionId: Type.String() }),
      querystring: ItemsQuery,
      response: { 200: Document, ...errors(400, 404) },
    },
  }, async (req, reply) => {
    const c = collectionOf(req.params.collectionId)
    const { limit, offset } = req.query
    const bbox = req.query.bbox ? parseBbox(req.query.bbox) : undefined
    const campaign = await app.campaign.current()
    const { rows, matched } = await app.ogc.items(c.id, keyAreaViewer(app.userOf(req)), { bbox, limit, offset, on: app.campaign.referenceDate(campaign) })
    const href = (o: number) => {
      const q = new URLSearchParams({ limit: String(limit), offset: String(o) })
      if (req.query.bbox) q.set('bbox', req.query.bbox)
      return `${base()}/collections/${c.id}/items?${q}`
    }
    const links = [
      { href: href(offset), rel: 'self', type: geojson, title: 'This page' },
      { href: `${base()}/collections/${c.id}`, rel: 'collection', type: json, title: c.title },
    ]
    if (offset + rows.length < matched) links.push({ href: href(offset + limit), rel: 'next', type: geojson, title: 'Next page' })
    if (offset > 0) links.push({ href: href(Math.max(0, offset - limit)), rel: 'prev', type: geojson, title: 'Previous page' })
    reply.type(geojson)
    return {
      type: 'FeatureCollection',
      timeStamp: new Date().toISOString(),
      numberMatched: matched,
      numberReturned: rows.length,
      links,
      features: rows.map(r => ({ type: 'Feature', id: r.id, geometry: JSON.parse(r.geometry), properties: r.properties })),
    }
  })

  app.get('/collections/:collectionId/items/:featureId', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['ogc'],
      summary: 'One feature',
      params: Type.Object({ collectionId: Type.String(), featureId: Id() }),
      response: { 200: Document, ...errors(404) },
    },
  }, async (req, reply) => {
    const c = collectionOf(req.params.collectionId)
    const campaign = await app.campaign.current()
    const { rows } = await app.ogc.items(c.id, keyAreaViewer(app.userOf(req)), { limit: 1, offset: 0, id: req.params.featureId, on: app.campaign.referenceDate(campaign) })
    const r = rows[0]
    if (!r) throw notFound(`there is no feature ${req.params.featureId} in ${c.id}`, `图层集合 ${c.id} 中没有编号为 ${req.params.featureId} 的要素`)
    reply.type(geojson)
    return {
      type: 'Feature', id: r.id, geometry: JSON.parse(r.geometry), properties: r.properties,
      links: [
        { href: `${base()}/collections/${c.id}/items/${r.id}`, rel: 'self', type: geojson },
        { href: `${base()}/collections/${c.id}`, rel: 'collection', type: json },
      ],
    }
  })
}
export default routes
