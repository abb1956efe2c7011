import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { notFound } from '../../../lib/http-errors.js'
import { errors } from '../../../schemas/common.js'
import { SavedViewSchema, ViewCreateSchema, ViewIdParams, ViewListQuerySchema, ViewPatchSchema } from '../../../schemas/views.js'

const missing = (id: number) => notFound(`you have no saved view with id ${id}`, `您没有编号为 ${id} 的已保存视图`)

/**
 * Saved views (a name, the filters and the map's position) of the dashboard and the map: each
 * user's own, and those others shared. Anyone who reads the measures may save one.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['views'], summary: 'Your saved views, then the views others shared',
      querystring: ViewListQuerySchema, response: { 200: Type.Array(SavedViewSchema), ...errors(400, 401, 403) },
    },
  }, async req => app.views.list(app.userOf(req).id, req.query.page))

  app.post('/', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['views'], summary: 'Save the view of a page under a name (optionally shared with everyone)',
      body: ViewCreateSchema, response: { 201: SavedViewSchema, ...errors(400, 401, 403, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const view = await app.writeTx(req, async (tx) => {
      const id = await app.views.create(tx, user.id, req.body)
      const after = (await app.views.get(tx, user.id, id))!
      await app.audit.record(tx, req, { action: 'view.create', entity: 'saved_view', entityId: id, after })
      return after
    })
    return reply.status(201).send(view)
  })

  app.patch('/:id', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['views'], summary: 'Rename, share or update one of your saved views',
      params: ViewIdParams, body: ViewPatchSchema, response: { 200: SavedViewSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    return app.writeTx(req, async (tx) => {
      const before = await app.views.get(tx, user.id, req.params.id)
      if (!before?.mine || !await app.views.update(tx, user.id, req.params.id, req.body)) throw missing(req.params.id)
      const after = (await app.views.get(tx, user.id, req.params.id))!
      await app.audit.record(tx, req, { action: 'view.update', entity: 'saved_view', entityId: req.params.id, before, after })
      return after
    })
  })

  app.delete('/:id', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['views'], summary: 'Delete one of your saved views',
      params: ViewIdParams, response: { 204: Type.Null({ description: 'Deleted' }), ...errors(400, 401, 403, 404) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    await app.writeTx(req, async (tx) => {
      const before = await app.views.get(tx, user.id, req.params.id)
      if (!before?.mine || !await app.views.remove(tx, user.id, req.params.id)) throw missing(req.params.id)
      await app.audit.record(tx, req, { action: 'view.delete', entity: 'saved_view', entityId: req.params.id, before })
    })
    return reply.code(204).send(null)
  })
}
export default routes
