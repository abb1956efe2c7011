import fp from 'fastify-plugin'
import type { Database } from '../../db/index.js'
import { databaseUnavailable } from '../../lib/http-errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
  }
}

/** The API and the OGC service read the database on every request (sessions live there); the web app's files do not. */
const needsDatabase = (url: string) => url.startsWith('/api/') || url.startsWith('/ogc')

/**
 * Makes the opened database available as app.db. Its owner (server.ts or a test) closes it.
 * While the database is known to be away, requests that need it are answered 503 at once rather
 * than queued for a connection that cannot be made.
 */
export default fp<{ db: Database }>(async (app, opts) => {
  app.decorate('db', opts.db)
  const unsubscribe = opts.db.availability.onChange((available, detail) => {
    if (available) app.log.info(detail)
    else app.log.warn(detail)
  })
  app.addHook('onClose', async () => unsubscribe())
  app.addHook('onRequest', async (req) => {
    if (!opts.db.availability.available && needsDatabase(req.url)) throw databaseUnavailable()
  })
}, { name: 'db' })
