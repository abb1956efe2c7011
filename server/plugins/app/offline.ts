import fp from 'fastify-plugin'
import type { Sql } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'

/** About 300 m around the visits, in degrees (a street or two on either side). */
const marginDegrees = 0.003
/** The most premises a package carries: a community is about 2,000. */
export const offlinePremisesLimit = 5000

/**
 * The area an inspector downloads before going out: the box around the premises of their open
 * visits inside their jurisdiction, widened by a margin, or none when they have no open visit.
 */
export function offlineRepository(sql: Sql) {
  return {
    async areaOf(userId: number, scope: Jurisdiction): Promise<{ bbox: [number, number, number, number] | null; openTasks: number }> {
      const [row] = await sql<{ w: number | null; s: number | null; e: number | null; n: number | null; openTasks: number }[]>`
        select min(st_x(p.geom)) as w, min(st_y(p.geom)) as s, max(st_x(p.geom)) as e, max(st_y(p.geom)) as n, count(*)::int as open_tasks
        from task t join premises p on p.id = t.premises_id
        where t.assignee_id = ${userId} and t.status = 'open' and ${inJurisdiction(sql, scope)}`
      if (!row || row.w === null) return { bbox: null, openTasks: 0 }
      return {
        bbox: [row.w - marginDegrees, row.s! - marginDegrees, row.e! + marginDegrees, row.n! + marginDegrees],
        openTasks: row.openTasks,
      }
    },
  }
}

export type OfflineRepository = ReturnType<typeof offlineRepository>

declare module 'fastify' {
  interface FastifyInstance {
    offline: OfflineRepository
  }
}

export default fp(async (app) => {
  app.decorate('offline', offlineRepository(app.db.sql))
}, { name: 'offline', dependencies: ['db'] })
