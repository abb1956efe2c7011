import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { can } from '../../../domain/access.js'
import { maxPhotoBytes, notAPhoto, type PhotoStage, photoTooLarge, type ProcessedPhoto, processPhoto } from '../../../domain/photos.js'
import { HttpError, notFound } from '../../../lib/http-errors.js'
import { photoDto, type PhotoTarget } from '../../../plugins/app/photos.js'
import { closeTasksOnVisit } from '../../../plugins/app/tasks.js'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import { HazardPhotoQuery, JpegSchema, PhotoListSchema, PhotoParams, PhotoSchema, PremisesPhotoQuery } from '../../../schemas/photos.js'

/**
 * Photos as evidence: uploads (the image itself as the body, shrunk by the phone first), the
 * photos of a premises, and each image and thumbnail. Registered under /api.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  // Any image type and raw bytes reach the handler, which judges the bytes themselves: the
  // declared type proves nothing, and an SVG deserves a sentence rather than a bare 415.
  for (const type of [/^image\/[\w.+-]+$/, 'application/octet-stream']) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: maxPhotoBytes }, (_req, body, done) => done(null, body))
  }
  // A body over the limit is refused before it is read, in words about photos.
  app.setErrorHandler((err: Error & { code?: string }) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') throw photoTooLarge()
    throw err
  })

  const uploadErrors = errors(400, 401, 403, 404, 409, 413, 415, 422)
  const uploaded = { 201: PhotoSchema, 200: { ...PhotoSchema, description: 'The same upload sent again (same clientId): the photo stored the first time' }, ...uploadErrors }

  async function upload(req: FastifyRequest, reply: FastifyReply, target: PhotoTarget, stage: PhotoStage, clientId: string) {
    const user = app.userOf(req)
    const { replay } = await app.photos.precheck(user.jurisdiction, user.id, target, stage, clientId)
    if (replay) return reply.code(200).header('Idempotent-Replayed', 'true').send(photoDto(replay))
    let photo: ProcessedPhoto
    try {
      if (!Buffer.isBuffer(req.body)) throw notAPhoto()
      photo = await processPhoto(req.body)
    }
    catch (e) {
      // A refused upload is recorded too: who tried to send what kind of file where.
      if (e instanceof HttpError) {
        await app.audit.record(app.db.sql, req, {
          action: 'photo.upload', entity: target.hazardId !== undefined ? 'hazard' : 'premises',
          entityId: target.hazardId ?? target.premisesId, after: { stage, clientId, bytes: Buffer.isBuffer(req.body) ? req.body.length : null },
          reason: e.reason ?? null, outcome: 'failed',
        })
      }
      throw e
    }
    const stored = await app.writeTx(req, async (tx) => {
      const r = await app.photos.insert(tx, user.jurisdiction, user.id, target, stage, clientId, photo)
      if (r.replayed) return r
      const { url: _, thumbUrl: __, ...dto } = photoDto(r.photo)
      await app.audit.record(tx, req, {
        action: 'photo.upload', entity: 'photo', entityId: r.photo.id,
        after: { ...dto, sourceType: photo.sourceType, sourceBytes: photo.sourceBytes, storedBytes: photo.image.length, sha256: photo.sha256.toString('hex') },
      })
      await closeTasksOnVisit(app, tx, req, { premisesId: r.photo.premisesId, hazardId: r.photo.hazardId, action: 'photo.upload' })
      return r
    })
    if (stored.replayed) reply.header('Idempotent-Replayed', 'true')
    return reply.code(stored.replayed ? 200 : 201).send(photoDto(stored.photo))
  }

  app.post('/premises/:id/photos', {
    config: { permission: 'inspection:write' },
    bodyLimit: maxPhotoBytes,
    schema: {
      tags: ['photos'],
      summary: 'Add a photo of the premises (JPEG, PNG or WebP as the body, at most 10 MB); stored re-encoded, without metadata',
      params: IdParams, querystring: PremisesPhotoQuery, response: uploaded,
    },
  }, async (req, reply) => upload(req, reply, { premisesId: req.params.id }, 'premises', req.query.clientId))

  app.post('/hazards/:id/photos', {
    config: { permission: 'inspection:write' },
    bodyLimit: maxPhotoBytes,
    schema: {
      tags: ['photos'],
      summary: 'Add a photo of the hazard as found, or after its rectification (JPEG, PNG or WebP as the body, at most 10 MB)',
      params: IdParams, querystring: HazardPhotoQuery, response: uploaded,
    },
  }, async (req, reply) => upload(req, reply, { hazardId: req.params.id }, req.query.stage, req.query.clientId))

  app.get('/premises/:id/photos', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['photos'],
      summary: 'The photos of a premises and of its hazards, oldest first: those of the premises itself only for roles that see people',
      params: IdParams, response: { 200: PhotoListSchema, ...errors(401, 403, 404) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    const rows = await app.photos.list(user.jurisdiction, req.params.id, can(user.role, 'people:read'))
    if (!rows) throw notFound(`there is no premises with id ${req.params.id}`, `没有编号为 ${req.params.id} 的房屋`)
    return rows.map(photoDto)
  })

  for (const which of ['image', 'thumb'] as const) {
    app.get(which === 'image' ? '/photos/:id' : '/photos/:id/thumb', {
      config: { permission: 'map:read' },
      schema: {
        tags: ['photos'],
        summary: which === 'image' ? 'A photo (JPEG, at most 2048 pixels on its long side)' : 'A photo\'s thumbnail (JPEG, at most 320 pixels on its long side)',
        params: PhotoParams, response: { 200: JpegSchema, ...errors(401, 403, 404) },
      },
    }, async (req, reply) => {
      const user = app.userOf(req)
      const data = await app.photos.bytes(user.jurisdiction, req.params.id, can(user.role, 'people:read'), which)
      if (!data) throw notFound(`there is no photo with id ${req.params.id}`, `没有编号为 ${req.params.id} 的照片`)
      reply.type('image/jpeg').header('Content-Disposition', `inline; filename="photo-${req.params.id}${which === 'thumb' ? '-thumb' : ''}.jpg"`)
      return reply.send(data)
    })
  }

  app.delete('/photos/:id', {
    config: { permission: 'inspection:write' },
    schema: {
      tags: ['photos'],
      summary: 'Delete a photo (a wrong one, a bystander\'s face), one\'s own or, for commanders, any: its pixels are erased, the record of it stays',
      params: PhotoParams, response: { 204: Type.Null({ description: 'Deleted' }), ...errors(401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    await app.writeTx(req, async (tx) => {
      // Commanders, who direct the visits, may remove a wrong photo taken on one.
      const before = await app.photos.remove(tx, user.jurisdiction, { id: user.id, mayDeleteOthers: can(user.role, 'tasks:assign') }, req.params.id)
      const { url: _, thumbUrl: __, ...dto } = photoDto(before)
      await app.audit.record(tx, req, { action: 'photo.delete', entity: 'photo', entityId: req.params.id, before: dto })
    })
    return reply.code(204).send(null)
  })
}
export default routes
