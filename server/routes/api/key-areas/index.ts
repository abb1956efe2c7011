import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { badRequest, HttpError, notFound, parseDate } from '../../../lib/http-errors.js'
import type { KeyAreaAttributes } from '../../../schemas/key-areas.js'
import { keyAreaViewer } from '../../../plugins/app/key-areas-scope.js'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import {
  KeyAreaCollectionSchema, KeyAreaDetailSchema, KeyAreaInputSchema, KeyAreaVersionSchema, KeyAreaWriteQuery, PreviewInputSchema, PreviewSchema,
} from '../../../schemas/key-areas.js'

/**
 * The versions a writer saw, from If-Match: a list of entity tags ("3", W/"3", or a bare 3 as older
 * clients send). A well-formed tag that names no version ("abc", "0") matches nothing, so the write is
 * refused with 412 like a stale one (RFC 9110); a header that is not a list of entity tags is 400.
 * Without the header, or with "*" (which names no version), 428: no write may overwrite blindly.
 */
function ifMatchVersions(req: FastifyRequest): number[] {
  const raw = req.headers['if-match']
  const required = () => new HttpError(428, 'Send the version you edited in an If-Match header (the ETag of the key area), so that nobody\'s changes are overwritten.', 'if-match-required',
    '请在 If-Match 请求头中注明您编辑的版本，以免覆盖他人的修改。')
  if (!raw) throw required()
  const text = String(raw).trim()
  if (text === '*') throw required()
  if (/^\d+$/.test(text)) return versionOf(text)
  const tags: string[] = []
  const tag = /\s*(?:W\/)?"([\x21\x23-\x7E\x80-\xFF]*)"\s*(,|$)/y
  for (let m = tag.exec(text); m; m = tag.exec(text)) {
    tags.push(m[1]!)
    if (m[2] === '' || tag.lastIndex >= text.length) break
  }
  if (!tags.length || tag.lastIndex < text.length) {
    throw badRequest(`If-Match "${text}" is not a list of entity tags (expected the key area's ETag, such as "3")`, `If-Match“${text}”不是有效的实体标签（应为重点地区的 ETag，如 "3"）`)
  }
  return tags.flatMap(versionOf)
}

/** A tag's version, or none when the tag cannot be one of ours. */
const versionOf = (tag: string): number[] => (/^\d{1,9}$/.test(tag) && Number(tag) > 0 ? [Number(tag)] : [])

function checkDates(a: KeyAreaAttributes) {
  if (a.listedOn) parseDate(a.listedOn, 'listedOn')
  if (a.deadline) parseDate(a.deadline, 'deadline')
}

/** Key areas (重点地区): drawn, listed, versioned and followed to zero open hazards. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const referenceDay = async () => {
    const c = await app.campaign.current()
    return { campaign: c, on: app.campaign.referenceDate(c) }
  }

  app.get('/', {
    config: { permission: 'map:read' },
    schema: { tags: ['key-areas'], summary: 'Key areas in your jurisdiction with their progress toward zero open hazards', response: { 200: KeyAreaCollectionSchema, ...errors(401, 403) } },
  }, async (req, reply) => {
    const { on } = await referenceDay()
    reply.type('application/geo+json')
    return { type: 'FeatureCollection' as const, referenceDate: on, features: await app.keyAreas.list(keyAreaViewer(app.userOf(req)), on) }
  })

  app.post('/preview', {
    config: { permission: 'key-areas:write' },
    schema: {
      tags: ['key-areas'], summary: 'Check a boundary being drawn and count what lies inside it (attachment 3 figures, open hazards)',
      body: PreviewInputSchema, response: { 200: PreviewSchema, ...errors(400, 401, 403) },
    },
  }, async (req) => {
    const viewer = keyAreaViewer(app.userOf(req))
    const { on } = await referenceDay()
    const { checked: c, counts } = await app.keyAreas.preview(req.body.geometry, viewer, { excludeId: req.body.excludeId }, on, app.db.planned)
    return {
      valid: c.problems.length === 0,
      problems: c.problems, warnings: c.warnings, areaKm2: c.areaKm2, outsideShare: c.outsideShare, suggested: c.suggested, counts,
    }
  })

  app.post('/', {
    config: { permission: 'key-areas:write' },
    schema: {
      tags: ['key-areas'], summary: 'List a key area: a GeoJSON Feature with a Polygon and its attributes',
      body: KeyAreaInputSchema, querystring: KeyAreaWriteQuery, response: { 201: KeyAreaDetailSchema, ...errors(400, 401, 403) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    checkDates(req.body.properties)
    const { campaign, on } = await referenceDay()
    const created = await app.writeTx(req, async (tx) => {
      const r = await app.keyAreas.create(tx, keyAreaViewer(user), user.id, campaign.id, req.body.geometry, req.body.properties, req.query.clip ?? false)
      await app.audit.record(tx, req, { action: 'key-area.create', entity: 'key_area', entityId: r.id, after: req.body.properties })
      return r
    })
    const detail = (await app.keyAreas.get(keyAreaViewer(user), created.id, campaign, on))!
    reply.header('ETag', `"${detail.properties.version}"`).header('Location', `/api/key-areas/${created.id}`)
    return reply.status(201).send(detail)
  })

  app.get('/commanders', {
    config: { permission: 'key-areas:write' },
    schema: {
      tags: ['key-areas'], summary: 'Commanders who may be made responsible for a key area in your jurisdiction',
      response: { 200: Type.Array(Type.Object({ id: Type.Integer(), username: Type.String(), displayName: Type.String() })), ...errors(401, 403) },
    },
  }, async req => app.users.commanders(app.userOf(req).jurisdiction))

  app.get('/:id', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['key-areas'], summary: 'A key area with attachment 3\'s figures inside it and the trend of its open hazards (ETag: its version)',
      params: IdParams, response: { 200: KeyAreaDetailSchema, ...errors(401, 403, 404) },
    },
  }, async (req, reply) => {
    const { campaign, on } = await referenceDay()
    const detail = await app.keyAreas.get(keyAreaViewer(app.userOf(req)), req.params.id, campaign, on)
    if (!detail) throw notFound(`there is no key area with id ${req.params.id}`, `没有编号为 ${req.params.id} 的重点地区`)
    reply.header('ETag', `"${detail.properties.version}"`)
    return detail
  })

  app.put('/:id', {
    config: { permission: 'key-areas:write' },
    schema: {
      tags: ['key-areas'], summary: 'Change a key area\'s boundary or attributes; If-Match with the version edited (412 when it changed meanwhile)',
      params: IdParams, body: KeyAreaInputSchema, querystring: KeyAreaWriteQuery, response: { 200: KeyAreaDetailSchema, ...errors(400, 401, 403, 404, 412, 428) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const versions = ifMatchVersions(req)
    checkDates(req.body.properties)
    const { campaign, on } = await referenceDay()
    await app.writeTx(req, async (tx) => {
      const r = await app.keyAreas.update(tx, keyAreaViewer(user), user.id, req.params.id, versions, req.body.geometry, req.body.properties, req.query.clip ?? false)
      await app.audit.record(tx, req, { action: 'key-area.update', entity: 'key_area', entityId: req.params.id, before: r.before, after: req.body.properties })
    })
    const detail = (await app.keyAreas.get(keyAreaViewer(user), req.params.id, campaign, on))!
    reply.header('ETag', `"${detail.properties.version}"`)
    return detail
  })

  app.delete('/:id', {
    config: { permission: 'key-areas:write' },
    schema: {
      tags: ['key-areas'], summary: 'Remove a key area (its versions are kept); If-Match with the version seen',
      params: IdParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 412, 428) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const versions = ifMatchVersions(req)
    await app.writeTx(req, async (tx) => {
      await app.keyAreas.remove(tx, keyAreaViewer(user), user.id, req.params.id, versions)
      await app.audit.record(tx, req, { action: 'key-area.delete', entity: 'key_area', entityId: req.params.id })
    })
    return reply.status(204).send(null)
  })

  app.get('/:id/versions', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['key-areas'], summary: 'Every saved version of a key area\'s boundary and attributes, newest first',
      params: IdParams, response: { 200: Type.Array(KeyAreaVersionSchema), ...errors(401, 403, 404) },
    },
  }, async (req) => {
    const rows = await app.keyAreas.versions(keyAreaViewer(app.userOf(req)), req.params.id)
    if (!rows) throw notFound(`there is no key area with id ${req.params.id}`, `没有编号为 ${req.params.id} 的重点地区`)
    return rows
  })
}
export default routes
