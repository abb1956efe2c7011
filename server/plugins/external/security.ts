import cookie from '@fastify/cookie'
import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'

/**
 * Security headers and cookies. The Content-Security-Policy allows only this origin, plus the
 * blob: workers MapLibre starts; nothing outside the machine is ever loaded.
 */
export default fp<{ extraOrigins?: string[] }>(async (app, opts) => {
  const extra = opts.extraOrigins ?? []
  await app.register(cookie)
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        childSrc: ["'self'", 'blob:'],
        // Vue, Element Plus and MapLibre set inline styles on elements.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:', ...extra],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", 'blob:', ...extra],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // The app is served over plain HTTP on intranets too; HSTS belongs to the TLS terminator.
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
  })
}, { name: 'security' })
