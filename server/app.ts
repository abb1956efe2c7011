import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Basemap } from './lib/config.js'
import { schemaCompilers } from './lib/schema-compilers.js'
import type { Database } from './db/index.js'
import type { PiiKeys } from './domain/pii.js'
import accessPlugin from './plugins/app/access.js'
import analysisPlugin from './plugins/app/analysis.js'
import reportsPlugin from './plugins/app/reports.js'
import exportsPlugin from './plugins/app/exports.js'
import healthPlugin from './plugins/app/health.js'
import ogcPlugin from './plugins/app/ogc.js'
import reportsRoutes from './routes/api/reports/index.js'
import exportsRoutes from './routes/api/exports/index.js'
import ogcRoutes from './routes/ogc/index.js'
import importsPlugin, { type ImportOptions } from './plugins/app/imports.js'
import importsRoutes from './routes/api/imports/index.js'
import auditPlugin from './plugins/app/audit.js'
import credentialsPlugin from './plugins/app/credentials.js'
import enforcementPlugin from './plugins/app/enforcement.js'
import inspectionPlugin from './plugins/app/inspection.js'
import keyAreasPlugin from './plugins/app/key-areas.js'
import jurisdictionsPlugin from './plugins/app/jurisdictions.js'
import peoplePlugin from './plugins/app/people.js'
import clientWritesPlugin from './plugins/app/client-writes.js'
import offlinePlugin from './plugins/app/offline.js'
import photosPlugin from './plugins/app/photos.js'
import tasksPlugin from './plugins/app/tasks.js'
import supervisionPlugin, { type SupervisionOptions } from './plugins/app/supervision.js'
import noticesPlugin, { type NoticesOptions } from './plugins/app/notices.js'
import noticesRoutes from './routes/api/notices/index.js'
import revisitsPlugin from './plugins/app/revisits.js'
import revisitsRoutes from './routes/api/revisits/index.js'
import acceptancePlugin from './plugins/app/acceptance.js'
import acceptanceRoutes from './routes/api/acceptance/index.js'
import supervisionRoutes from './routes/api/supervision/index.js'
import photosRoutes from './routes/api/photos/index.js'
import tasksRoutes from './routes/api/tasks/index.js'
import offlineRoutes from './routes/api/offline/index.js'
import usersPlugin from './plugins/app/users.js'
import securityPlugin from './plugins/external/security.js'
import analysisRoutes from './routes/api/analysis/index.js'
import auditRoutes from './routes/api/audit/index.js'
import configRoutes from './routes/api/config/index.js'
import authRoutes from './routes/api/auth/index.js'
import enforcementRoutes from './routes/api/enforcement/index.js'
import hazardsRoutes from './routes/api/hazards/index.js'
import keyAreasRoutes from './routes/api/key-areas/index.js'
import residentsRoutes from './routes/api/residents/index.js'
import usersRoutes from './routes/api/users/index.js'
import campaignPlugin from './plugins/app/campaign.js'
import premisesPlugin from './plugins/app/premises.js'
import referencePlugin from './plugins/app/reference.js'
import statsPlugin from './plugins/app/stats.js'
import closingPlugin from './plugins/app/closing.js'
import accountabilityPlugin from './plugins/app/accountability.js'
import versionsPlugin from './plugins/app/versions.js'
import tilesPlugin from './plugins/app/tiles.js'
import dbPlugin from './plugins/external/db.js'
import errorsPlugin, { frameworkErrors } from './plugins/external/errors.js'
import inputsPlugin from './plugins/external/inputs.js'
import swaggerPlugin from './plugins/external/swagger.js'
import basemapFilePlugin from './plugins/external/basemap.js'
import compressPlugin from './plugins/external/compress.js'
import basemapPlugin from './plugins/app/basemap.js'
import basemapRoutes from './routes/basemap/index.js'
import webPlugin from './plugins/external/web.js'
import healthRoutes from './routes/api/health/index.js'
import premisesRoutes from './routes/api/premises/index.js'
import premisesNearRoutes from './routes/api/premises/near.js'
import searchPlugin from './plugins/app/search.js'
import readingsPlugin from './plugins/app/readings.js'
import leadsPlugin from './plugins/app/leads.js'
import viewsPlugin from './plugins/app/views.js'
import viewsRoutes from './routes/api/views/index.js'
import readingsRoutes from './routes/api/readings/index.js'
import leadsRoutes from './routes/api/leads/index.js'
import searchRoutes from './routes/api/search/index.js'
import referenceRoutes from './routes/api/reference/index.js'
import statsRoutes from './routes/api/stats/index.js'
import closingRoutes from './routes/api/closing/index.js'
import accountabilityRoutes from './routes/api/accountability/index.js'
import tilesRoutes from './routes/api/tiles/index.js'

export interface AppOptions {
  db: Database
  /** Keys for residents' ID numbers. */
  keys: PiiKeys
  /** Trust X-Forwarded-* from a reverse proxy (for https detection and client addresses). */
  trustProxy?: boolean
  /** The optional basemap (off by default). */
  basemap?: Basemap
  /** Where clients reach the service (PUBLIC_URL), for absolute links; default: the address it listens on. */
  publicUrl?: string
  /** Directory of the built web app to serve; omitted in API tests. */
  webRoot?: string
  logger?: FastifyServerOptions['logger']
  /** Where uploaded ledgers wait for their commit, and when an import writes set-wise. */
  imports?: ImportOptions
  /** More routes, registered after the application's own and guarded like them (tests, extensions). */
  extraRoutes?: (app: FastifyInstance) => Promise<void>
  /** How the server escalates supervision items by itself (tests give their clock, or none). */
  supervision?: SupervisionOptions
  /** The notices' reminders and live figures (tests give their clock). */
  notices?: NoticesOptions
}

/**
 * Builds the application without listening: external plugins first, then the repositories, then
 * the routes (the order of fastify/demo). Tests call this and use app.inject.
 */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? false,
    trustProxy: opts.trustProxy ?? false,
    bodyLimit: 1024 * 1024,
    frameworkErrors,
    schemaController: { compilersFactory: schemaCompilers },
    ajv: {
      // Unknown query parameters are an error the user should hear about, not something to drop.
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false, verbose: true },
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  await app.register(dbPlugin, { db: opts.db })
  await app.register(versionsPlugin)
  await app.register(errorsPlugin)
  const basemap: Basemap = opts.basemap ?? { type: 'none', url: null, attribution: null }
  // A basemap from another server is the one thing the page may load from elsewhere.
  await app.register(securityPlugin, { extraOrigins: basemap.type === 'raster' && basemap.url ? [new URL(basemap.url.replace(/[{}]/g, '')).origin] : [] })
  // After the security headers (so that refusals carry them too), before the access checks.
  await app.register(inputsPlugin)
  await app.register(compressPlugin)

  await app.register(usersPlugin)
  await app.register(auditPlugin)
  await app.register(jurisdictionsPlugin)
  await app.register(credentialsPlugin)
  // Before any route, so that every route registered after it is seen and guarded.
  await app.register(accessPlugin)
  await app.register(swaggerPlugin)

  await app.register(peoplePlugin, { keys: opts.keys })
  await app.register(campaignPlugin)
  await app.register(referencePlugin)
  await app.register(premisesPlugin)
  await app.register(statsPlugin)
  await app.register(closingPlugin)
  await app.register(accountabilityPlugin)
  await app.register(tilesPlugin)
  await app.register(inspectionPlugin)
  await app.register(enforcementPlugin)
  await app.register(clientWritesPlugin)
  await app.register(offlinePlugin)
  await app.register(photosPlugin)
  await app.register(tasksPlugin)
  await app.register(noticesPlugin, { notices: opts.notices })
  await app.register(supervisionPlugin, { supervision: opts.supervision })
  await app.register(revisitsPlugin)
  await app.register(acceptancePlugin)
  await app.register(keyAreasPlugin)
  await app.register(analysisPlugin)
  await app.register(reportsPlugin)
  await app.register(exportsPlugin)
  await app.register(ogcPlugin)
  await app.register(healthPlugin)
  await app.register(importsPlugin, { keys: opts.keys, imports: opts.imports })
  await app.register(searchPlugin, { keys: opts.keys })
  await app.register(readingsPlugin)
  await app.register(leadsPlugin)
  await app.register(basemapPlugin)
  await app.register(viewsPlugin)

  await app.register(healthRoutes, { prefix: '/api/health' })
  await app.register(authRoutes, { prefix: '/api/auth' })
  await app.register(usersRoutes, { prefix: '/api/users' })
  await app.register(auditRoutes, { prefix: '/api/audit' })
  await app.register(residentsRoutes, { prefix: '/api/residents' })
  await app.register(referenceRoutes, { prefix: '/api' })
  await app.register(premisesRoutes, { prefix: '/api/premises' })
  await app.register(premisesNearRoutes, { prefix: '/api/premises' })
  await app.register(searchRoutes, { prefix: '/api/search' })
  await app.register(statsRoutes, { prefix: '/api/stats' })
  await app.register(closingRoutes, { prefix: '/api/closing' })
  await app.register(accountabilityRoutes, { prefix: '/api/accountability' })
  await app.register(tilesRoutes, { prefix: '/api/tiles' })
  await app.register(hazardsRoutes, { prefix: '/api/hazards' })
  await app.register(enforcementRoutes, { prefix: '/api/enforcement' })
  await app.register(photosRoutes, { prefix: '/api' })
  await app.register(tasksRoutes, { prefix: '/api/tasks' })
  await app.register(supervisionRoutes, { prefix: '/api/supervision' })
  await app.register(noticesRoutes, { prefix: '/api/notices' })
  await app.register(revisitsRoutes, { prefix: '/api/revisits' })
  await app.register(acceptanceRoutes, { prefix: '/api/acceptance' })
  await app.register(offlineRoutes, { prefix: '/api/offline' })
  await app.register(keyAreasRoutes, { prefix: '/api/key-areas' })
  await app.register(analysisRoutes, { prefix: '/api/analysis' })
  await app.register(reportsRoutes, { prefix: '/api/reports' })
  await app.register(exportsRoutes, { prefix: '/api/exports' })
  await app.register(importsRoutes, { prefix: '/api/imports' })
  await app.register(readingsRoutes, { prefix: '/api/readings' })
  await app.register(leadsRoutes, { prefix: '/api/leads' })
  await app.register(viewsRoutes, { prefix: '/api/views' })
  await app.register(ogcRoutes, { prefix: '/ogc', publicUrl: opts.publicUrl })
  await app.register(configRoutes, { prefix: '/api/config', basemap: { type: basemap.type, url: basemap.url, attribution: basemap.attribution } })
  await app.register(basemapRoutes, { prefix: '/basemap' })
  if ((basemap.type === 'pmtiles' || basemap.type === 'vector-pmtiles') && basemap.file) await app.register(basemapFilePlugin, { file: basemap.file })

  if (opts.extraRoutes) await app.register(opts.extraRoutes)
  if (opts.webRoot) await app.register(webPlugin, { root: opts.webRoot })
  await app.ready()
  return app
}
