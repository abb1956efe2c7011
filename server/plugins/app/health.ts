import fp from 'fastify-plugin'
import type { Database } from '../../db/index.js'
import type { Health } from '../../schemas/health.js'

/** Whether the database answers, and what it can do. */
export function healthRepository(db: Database) {
  return {
    /** Asks the database; while it is away this fails as every query does (503, database-unavailable). */
    async check(): Promise<Health> {
      await db.sql`select 1`
      return { ok: true, backend: db.backend, postgis: db.postgis, mvt: db.mvt }
    },
  }
}

export type HealthRepository = ReturnType<typeof healthRepository>

declare module 'fastify' {
  interface FastifyInstance {
    health: HealthRepository
  }
}

export default fp(async (app) => {
  app.decorate('health', healthRepository(app.db))
}, { name: 'health', dependencies: ['db'] })
