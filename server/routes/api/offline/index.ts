import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { can } from '../../../domain/access.js'
import { offlinePremisesLimit } from '../../../plugins/app/offline.js'
import { errors } from '../../../schemas/common.js'
import { OfflineBasemapSchema, OfflinePackageSchema } from '../../../schemas/offline.js'
import { hazardDto } from '../../../plugins/app/inspection.js'

/** Minimum and maximum zoom of the premises tiles a package covers: streets to doorways. */
const tileZooms = { minZoom: 12, maxZoom: 16 }

/**
 * "Download for offline": the premises and hazards of the area around the inspector's open
 * visits, in one answer, for the phone to keep in IndexedDB. The jurisdiction is in every query.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/package', {
    config: { permission: 'tasks:work' },
    schema: {
      tags: ['tasks'],
      summary: 'The premises and hazards of the area around my open visits, to work there without network',
      response: { 200: OfflinePackageSchema, ...errors(401, 403) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    const withPeople = can(user.role, 'people:read')
    const { bbox, openTasks } = await app.offline.areaOf(user.id, user.jurisdiction)
    const premises = bbox ? await app.people.premisesInBox(user.jurisdiction, bbox, withPeople, offlinePremisesLimit + 1) : []
    const truncated = premises.length > offlinePremisesLimit
    const kept = premises.slice(0, offlinePremisesLimit)
    const on = app.campaign.referenceDate(await app.campaign.current())
    const hazards = await app.inspection.hazardsOfPremises(kept.map(p => p.id), on, withPeople)
    req.log.info({ premises: kept.length, hazards: hazards.length }, 'offline package')
    return {
      generatedAt: new Date().toISOString(), bbox, openTasks, truncated, tiles: tileZooms,
      premises: kept, hazards: hazards.map(hazardDto),
    }
  })

  app.get('/basemap', {
    config: { permission: 'tasks:work' },
    schema: {
      tags: ['tasks'],
      summary: 'The street map\'s tiles over my jurisdiction (zoom 12 to 16) and their size, to keep on the phone for use without network',
      response: { 200: OfflineBasemapSchema, ...errors(401, 403) },
    },
  }, async (req) => {
    const zooms = { minZoom: 12, maxZoom: 16 }
    return { ...zooms, ...await app.basemap.tilesOver(app.userOf(req).jurisdiction, zooms.minZoom, zooms.maxZoom) }
  })
}
export default routes
