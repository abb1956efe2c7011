import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import fp from 'fastify-plugin'

const gzipAsync = promisify(gzip)

/** Answers smaller than this go as they are: gzip's header and the work cost more than they save. */
const minimumBytes = 1024

/** JSON in all its kinds (application/json, application/geo+json, application/problem+json). */
const jsonType = /^application\/(?:[\w.-]+\+)?json\b/i

/** Whether the client takes gzip: named in Accept-Encoding (or `*`) without `q=0`. */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : header ?? ''
  return value.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';')
    if (coding !== 'gzip' && coding !== '*') return false
    const q = params.map(p => p.trim()).find(p => p.startsWith('q='))
    return q === undefined || Number(q.slice(2)) > 0
  })
}

/**
 * Gzips JSON answers for clients that accept it. A phone on a field network downloads the offline
 * package and the map's GeoJSON in a fraction of the bytes (JSON of coordinates and codes shrinks
 * about six-fold). Only whole JSON bodies: streams (exports, live events) and answers that already
 * carry an encoding (tiles) pass untouched. Level 4 keeps the CPU cost low on a 2-core server.
 */
export default fp(async (app) => {
  app.addHook('onSend', async (req, reply, payload) => {
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload
    if (reply.hasHeader('content-encoding')) return payload
    if (!jsonType.test(String(reply.getHeader('content-type') ?? ''))) return payload
    if (Buffer.byteLength(payload) < minimumBytes) return payload
    reply.header('vary', appendVary(reply.getHeader('vary'), 'Accept-Encoding'))
    if (!acceptsGzip(req.headers['accept-encoding'])) return payload
    const body = await gzipAsync(payload, { level: 4 })
    reply.header('content-encoding', 'gzip')
    reply.removeHeader('content-length')
    return body
  })
}, { name: 'compress' })

function appendVary(current: unknown, field: string): string {
  const list = (Array.isArray(current) ? current.join(',') : String(current ?? '')).split(',').map(s => s.trim()).filter(Boolean)
  return list.some(v => v.toLowerCase() === field.toLowerCase() || v === '*') ? list.join(', ') : [...list, field].join(', ')
}
