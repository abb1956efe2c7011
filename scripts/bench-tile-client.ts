/**
 * One tile at a time for `npm run bench` (benchTiles), asked from a process of its own as a browser
 * asks: over one kept-alive loopback connection, timed here from the request to the last byte. In
 * the bench's own process the client's work (its HTTP parser, its buffers, its garbage) shared the
 * server's event loop: 0.6 ms of a zoom-16 tile's 1.6 ms, where the query took 1.0.
 * Started by tileClient() over IPC; each message is a path, each answer what came back.
 */
import { fork } from 'node:child_process'
import { Agent, request } from 'node:http'

export interface TileAnswer {
  status: number
  /** Milliseconds from the request's start to its last byte, measured in the client's process. */
  ms: number
  /** X-Tile-Cache: hit or miss. */
  cache: string
  bytes: number
  /** The body as text when not 200 (the error). */
  error?: string
}

interface TileAsk { path: string; cookie: string; id: number }

/** A client process: get(path) answers one request at a time; close() ends it. */
export function tileClient(base: string) {
  const child = fork(new URL(import.meta.url), ['--serve', base], { serialization: 'advanced' })
  const waiting = new Map<number, { resolve: (a: TileAnswer) => void; reject: (e: Error) => void }>()
  let next = 0
  child.on('message', (m: TileAnswer & { id: number }) => {
    waiting.get(m.id)?.resolve(m)
    waiting.delete(m.id)
  })
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`the tile client stopped (exit code ${code})`))
    waiting.clear()
  })
  return {
    get: (path: string, cookie: string) => new Promise<TileAnswer>((resolve, reject) => {
      const id = next++
      waiting.set(id, { resolve, reject })
      child.send({ path, cookie, id } satisfies TileAsk)
    }),
    close: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.disconnect()
    }),
  }
}

if (process.argv[2] === '--serve') {
  const base = new URL(process.argv[3]!)
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  process.on('message', (m: TileAsk) => {
    const t0 = performance.now()
    request({ host: base.hostname, port: base.port, path: m.path, headers: { cookie: m.cookie }, agent }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => {
        const ms = performance.now() - t0
        const body = Buffer.concat(parts)
        process.send!({
          id: m.id, status: res.statusCode ?? 0, ms, cache: String(res.headers['x-tile-cache'] ?? ''), bytes: body.length,
          error: res.statusCode === 200 ? undefined : body.toString(),
        } satisfies TileAnswer & { id: number })
      })
    }).on('error', e => process.send!({ id: m.id, status: 0, ms: 0, cache: '', bytes: 0, error: e.message })).end()
  })
  process.on('disconnect', () => agent.destroy())
}
