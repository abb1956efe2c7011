import { promisify } from 'node:util'
import { gzip, gzipSync } from 'node:zlib'
import fp from 'fastify-plugin'

const gzipAsync = promisify(gzip)

/** Answers smaller than this go as they are: gzip's header and the work cost more than they save. */
const minimumBytes = 1024

/**
 * Answers smaller than this are gzipped on the event loop, at once. A small answer gzipped through
 * the thread pool cost three to five times the CPU of doing it here (a 1.8 KB premises detail: 212
 * against 37 µs; a 9 KB summary: 131 against 60 µs, Node 20), the stream and the hand-over to
 * another thread outweighing the compression; at 200 connections that was about a tenth of the
 * server's CPU. 16 KiB takes about 0.1 ms, short enough not to hold other requests up.
 */
export const gzipOnLoopBelow = 16 * 1024

/**
 * The last few large answers and their gzipped bytes, or the gzip under way. Many people asking for
 * the same thing (the district's points, a dashboard's figures) get the same string from the caches
 * behind the routes: it is compressed once, and the requests that come while it is being compressed
 * wait for that one. (Each compressed it for itself before: after a write inside a town's box, the
 * 66 requests a second for its new 1 MB text each began a gzip of their own in the thread pool, and
 * about fifty waited 1.2-1.5 s for theirs.) V8 keeps a string's hash in the string, so finding it
 * costs nothing more.
 */
const recent = new Map<string | Buffer, Promise<Buffer>>()
const recentFrom = 64 * 1024
const recentMax = 8
let largeGzips = 0

/** How many gzips of large answers (recentFrom and over) were begun so far (the tests look). */
export const largeGzipsBegun = () => largeGzips

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
    const bytes = Buffer.byteLength(payload)
    if (bytes < minimumBytes) return payload
    reply.header('vary', appendVary(reply.getHeader('vary'), 'Accept-Encoding'))
    if (!acceptsGzip(req.headers['accept-encoding'])) return payload
    let body: Buffer
    if (bytes < gzipOnLoopBelow) body = gzipSync(payload, { level: 4 })
    else if (bytes < recentFrom) body = await gzipAsync(payload, { level: 4 })
    else body = await gzipOnce(payload)
    reply.header('content-encoding', 'gzip')
    reply.removeHeader('content-length')
    return body
  })
}, { name: 'compress' })

/** The payload gzipped, kept among the recent ones, or the gzip of it already under way. */
function gzipOnce(payload: string | Buffer): Promise<Buffer> {
  let body = recent.get(payload)
  if (!body) {
    if (recent.size >= recentMax) recent.delete(recent.keys().next().value!)
    body = gzipAsync(payload, { level: 4 })
    largeGzips++
    recent.set(payload, body)
    body.catch(() => {
      if (recent.get(payload) === body) recent.delete(payload)
    })
  }
  return body
}

function appendVary(current: unknown, field: string): string {
  const list = (Array.isArray(current) ? current.join(',') : String(current ?? '')).split(',').map(s => s.trim()).filter(Boolean)
  return list.some(v => v.toLowerCase() === field.toLowerCase() || v === '*') ? list.join(', ') : [...list, field].join(', ')
}
