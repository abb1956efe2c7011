import type { IncomingMessage, ServerResponse } from 'node:http'
import cookie from '@fastify/cookie'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

/**
 * The headers helmet sets for these options, worked out once: they depend on nothing in the
 * request. (@fastify/helmet built helmet's middleware anew for every request, parsing the policy
 * each time: about 60 µs a request, 6 % of the server's time under load.)
 */
function securityHeaders(options: HelmetOptions): [string, string][] {
  const headers = new Map<string, string>()
  const res = {
    setHeader: (name: string, value: string) => { headers.set(name, String(value)) },
    removeHeader: (name: string) => { headers.delete(name) },
  }
  let failed: unknown = null
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => { failed = err ?? null })
  if (failed) throw failed
  return [...headers]
}

/**
 * Security headers and cookies. The Content-Security-Policy allows only this origin, plus the
 * blob: workers MapLibre starts; nothing outside the machine is ever loaded.
 */
export default fp<{ extraOrigins?: string[] }>(async (app, opts) => {
  const extra = opts.extraOrigins ?? []
  await app.register(cookie)
  const headers = securityHeaders({
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
  // On the raw response, as helmet's middleware set them: every answer carries them, streamed ones too.
  app.addHook('onRequest', (_req, reply, done) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value)
    done()
  })
}, { name: 'security' })
