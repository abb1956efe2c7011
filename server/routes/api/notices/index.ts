import { PassThrough } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { type LiveEvent, noticeVisible } from '../../../plugins/app/notices.js'
import { IdParams } from '../../../schemas/access.js'
import { errors, FileAnswer } from '../../../schemas/common.js'
import { NoticeListQuery, NoticeSchema, StreamQuery, UnreadSchema } from '../../../schemas/notices.js'

/** A comment line every so often keeps proxies and browsers from closing a quiet stream. */
const heartbeatMs = 15_000

/**
 * The inbox: every signed-in user's notices, read and unread, and the live stream of new ones
 * (Server-Sent Events: one connection per page, the session's cookie as its credential, the
 * events of its own user only, filtered by the user's jurisdiction in the server).
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    config: { permission: 'session' },
    schema: { tags: ['notices'], summary: 'My notices, newest first (within my jurisdiction as it is now)', querystring: NoticeListQuery, response: { 200: Type.Array(NoticeSchema), ...errors(400, 401) } },
  }, async (req) => {
    const user = app.userOf(req)
    return app.notices.list(user.id, user.jurisdiction, req.query)
  })

  app.get('/unread', {
    config: { permission: 'session' },
    schema: { tags: ['notices'], summary: 'How many of my notices are unread (the bell\'s number)', response: { 200: UnreadSchema, ...errors(401) } },
  }, async (req) => {
    const user = app.userOf(req)
    return { unread: await app.notices.unread(user.id, user.jurisdiction) }
  })

  for (const [path, read] of [['read', true], ['unread', false]] as const) {
    app.post(`/:id/${path}`, {
      config: { permission: 'session' },
      schema: { tags: ['notices'], summary: `Mark one of my notices ${path}`, params: IdParams, response: { 200: NoticeSchema, ...errors(401, 404) } },
    }, async (req) => {
      const user = app.userOf(req)
      return app.writeTx(req, async (tx) => {
        const n = await app.notices.mark(tx, user.id, user.jurisdiction, req.params.id, read)
        await app.audit.record(tx, req, { action: `notice.${path}`, entity: 'notice', entityId: n.id })
        return n
      })
    })
  }

  app.post('/read-all', {
    config: { permission: 'session' },
    schema: { tags: ['notices'], summary: 'Mark all my notices read', response: { 200: UnreadSchema, ...errors(401) } },
  }, async (req) => {
    const user = app.userOf(req)
    await app.writeTx(req, async (tx) => {
      const n = await app.notices.markAll(tx, user.id, user.jurisdiction)
      await app.audit.record(tx, req, { action: 'notice.read-all', entity: 'notice', after: { marked: n } })
    })
    return { unread: 0 }
  })

  app.get('/stream', {
    config: { permission: 'session' },
    schema: {
      tags: ['notices'],
      summary: 'Live notices (Server-Sent Events): first `hello` with the unread count, then `notice` for each new one and `figures` when the dashboard\'s figures changed; a comment every 15 s',
      querystring: StreamQuery, response: { 200: FileAnswer('The event stream', ['text/event-stream']), ...errors(400, 401) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const out = new PassThrough()
    const send = (event: string, data: unknown, id?: number) => out.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    out.write('retry: 3000\n\n')
    send('hello', { unread: await app.notices.unread(user.id, user.jurisdiction) })
    if (req.query.once) out.end()
    else {
      const beat = setInterval(() => out.write(': ping\n\n'), heartbeatMs)
      const stop = app.notices.hub.subscribe(user.id, (e: LiveEvent) => {
        if (e.type === 'close') out.end()
        else if (e.type === 'figures') send('figures', { version: e.version })
        else if (noticeVisible(user.jurisdiction, e)) send('notice', e.notice, e.notice.id)
      })
      out.on('close', () => {
        clearInterval(beat)
        stop()
      })
      req.raw.on('close', () => out.end())
    }
    // Proxies must pass each event at once rather than buffer the stream. The connection is the
    // stream's own: when the stream ends (the server stopping) it closes, rather than idling on
    // as a keep-alive connection that a stopping server would wait for.
    reply.type('text/event-stream; charset=utf-8').header('Cache-Control', 'no-store').header('X-Accel-Buffering', 'no').header('Connection', 'close')
    return reply.send(out)
  })
}
export default routes
