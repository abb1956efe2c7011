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
 * The last few large answers and their gzipped bytes. Many people asking for the same thing (the
 * district's points, a dashboard's figures) get the same string from the caches behind the routes:
 * it is compressed once. V8 keeps a string's hash in the string, so finding it costs nothing more.
 */
const recent = new Map<string | Buffer, Buffer>()
const recentFrom = 64 * 1024
const recentMax = 8

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
    const large = Buffer.byteLength(payload) >= recentFrom
    let body = large ? recent.get(payload) : undefined
    if (!body) {
      body = Buffer.byteLength(payload) < gzipOnLoopBelow ? gzipSync(payload, { level: 4 }) : await gzipAsync(payload, { level: 4 })
      if (large) {
        if (recent.size >= recentMax) recent.delete(recent.keys().next().value!)
        recent.set(payload, body)
      }
    }
    reply.header('content-encoding', 'gzip')
    reply.removeHeader('content-length')
    return body
  })
}, { name: 'compress' })

function appendVary(current: unknown, field: string): string {
  const list = (Array.isArray(current) ? current.join(',') : String(current ?? '')).split(',').map(s => s.trim()).filter(Boolean)
  return list.some(v => v.toLowerCase() === field.toLowerCase() || v === '*') ? list.join(', ') : [...list, field].join(', ')
}
