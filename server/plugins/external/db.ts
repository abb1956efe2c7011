import fp from 'fastify-plugin'
import type { Database } from '../../db/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
  }
}

/** Makes the opened database available as app.db. Its owner (server.ts or a test) closes it. */
export default fp<{ db: Database }>(async (app, opts) => {
  app.decorate('db', opts.db)
}, { name: 'db' })
