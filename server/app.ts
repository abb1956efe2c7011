import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Database } from './db/index.js'
import campaignPlugin from './plugins/app/campaign.js'
import premisesPlugin from './plugins/app/premises.js'
import referencePlugin from './plugins/app/reference.js'
import statsPlugin from './plugins/app/stats.js'
import dbPlugin from './plugins/external/db.js'
import errorsPlugin from './plugins/external/errors.js'
import swaggerPlugin from './plugins/external/swagger.js'
import webPlugin from './plugins/external/web.js'
import healthRoutes from './routes/api/health/index.js'
import premisesRoutes from './routes/api/premises/index.js'
import referenceRoutes from './routes/api/reference/index.js'
import statsRoutes from './routes/api/stats/index.js'

export interface AppOptions {
  db: Database
  /** Directory of the built web app to serve; omitted in API tests. */
  webRoot?: string
  logger?: FastifyServerOptions['logger']
}

/**
 * Builds the application without listening: external plugins first, then the repositories, then
 * the routes (the order of fastify/demo). Tests call this and use app.inject.
 */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: 1024 * 1024,
    ajv: {
      // Unknown query parameters are an error the user should hear about, not something to drop.
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false, verbose: true },
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  await app.register(dbPlugin, { db: opts.db })
  await app.register(errorsPlugin)
  await app.register(swaggerPlugin)

  await app.register(campaignPlugin)
  await app.register(referencePlugin)
  await app.register(premisesPlugin)
  await app.register(statsPlugin)

  await app.register(healthRoutes, { prefix: '/api/health' })
  await app.register(referenceRoutes, { prefix: '/api' })
  await app.register(premisesRoutes, { prefix: '/api/premises' })
  await app.register(statsRoutes, { prefix: '/api/stats' })

  if (opts.webRoot) await app.register(webPlugin, { root: opts.webRoot })
  await app.ready()
  return app
}
