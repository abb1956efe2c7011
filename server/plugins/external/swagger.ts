import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'

/** OpenAPI generated from the TypeBox route schemas, with its UI served from node_modules (offline). */
export default fp(async (app) => {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Group-rental safety campaign API',
        description: 'Premises, hazards, key areas and the campaign measures of the district group-rental safety campaign.',
        version: '0.1.0',
      },
      tags: [
        { name: 'system' }, { name: 'auth' }, { name: 'premises' }, { name: 'hazards' }, { name: 'residents' }, { name: 'stats' },
        { name: 'tiles' }, { name: 'key-areas' }, { name: 'analysis' }, { name: 'reports' }, { name: 'exports' }, { name: 'imports' },
        { name: 'ogc' }, { name: 'reference' }, { name: 'users' }, { name: 'audit' }, { name: 'search' }, { name: 'readings' }, { name: 'leads' }, { name: 'views' },
      ],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: false, uiConfig: { validatorUrl: null } as Record<string, unknown> })
}, { name: 'swagger' })
