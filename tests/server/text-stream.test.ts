import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAhead, sendTextStream } from '../../server/lib/text-stream.js'
import { eventually } from '../helpers/eventually.js'

/**
 * Answers streamed from pieces of text (the premises collection on real PostgreSQL): over a real
 * socket, since what matters is what the client sees when the pieces fail or the client stops reading.
 */
let app: FastifyInstance
let base = ''
let released = 0

const big = 'x'.repeat(64 * 1024)

beforeAll(async () => {
  app = Fastify()
  app.get('/whole', async (req, reply) => sendTextStream(req, reply, (async function* () {
    yield '{"a":['
    for (let i = 0; i < 50; i++) yield `${i ? ',' : ''}${i}`
    yield ']}'
  })()))
  app.get('/fails-midway', async (req, reply) => sendTextStream(req, reply, (async function* () {
    yield `{"a":["${big}"`
    await new Promise(resolve => setTimeout(resolve, 50))
    throw new Error('the cursor broke')
  })()))
  app.get('/fails-first', async (req, reply) => sendTextStream(req, reply, (async function* () {
    throw new Error('the query failed')
  })()))
  // Fails right after its first piece, before gzip's output of it has reached the socket.
  app.get('/fails-after-first', async (req, reply) => sendTextStream(req, reply, (async function* () {
    yield '{"a":['
    throw new Error('the cursor broke')
  })()))
  app.get('/endless', async (req, reply) => sendTextStream(req, reply, (async function* () {
    try {
      for (;;) yield big
    }
    finally {
      released++
    }
  })(), 300))
  await app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
})
afterAll(() => app.close())

/** What a client got: the status, the body's bytes, and whether the connection broke before the end. */
function fetchRaw(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; broken: boolean; encoding?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = []
      let broken = false
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('aborted', () => { broken = true })
      res.on('error', () => { broken = true })
      res.on('close', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), broken: broken || !res.complete, encoding: res.headers['content-encoding'] }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('a streamed answer', () => {
  it('arrives whole, plain or gzipped, when its pieces all come', async () => {
    const plain = await fetchRaw('/whole')
    expect(plain.broken).toBe(false)
    expect(JSON.parse(plain.body.toString()).a).toHaveLength(50)
    const zipped = await fetchRaw('/whole', { 'accept-encoding': 'gzip' })
    expect(zipped.encoding).toBe('gzip')
    expect(JSON.parse(gunzipSync(zipped.body).toString())).toEqual(JSON.parse(plain.body.toString()))
  })

  it('cuts the connection when the pieces fail half-way, so the half answer never looks whole', async () => {
    const res = await fetchRaw('/fails-midway')
    expect(res.status).toBe(200)
    expect(res.body.length).toBeGreaterThan(0)
    expect(res.broken).toBe(true)
    expect(() => JSON.parse(res.body.toString())).toThrow()
  })

  it('answers an ordinary error when the pieces fail before the first one', async () => {
    const res = await fetchRaw('/fails-first')
    expect(res.status).toBe(500)
    expect(res.broken).toBe(false)
  })

  it('answers that error in plain JSON to a client that takes gzip, not announced as gzip', async () => {
    const res = await fetchRaw('/fails-first', { 'accept-encoding': 'gzip' })
    expect(res.status).toBe(500)
    expect(res.encoding).toBeUndefined()
    expect(JSON.parse(res.body.toString('utf8'))).toMatchObject({ statusCode: 500 })
  })

  it('answers that error in plain JSON too when the first piece was written but no byte had left yet', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await fetchRaw('/fails-after-first', { 'accept-encoding': 'gzip' })
      if (res.status === 200) {
        // The first piece left before the failure: then the only honest end is a cut.
        expect(res.broken).toBe(true)
        continue
      }
      expect(res.status).toBe(500)
      expect(res.encoding).toBeUndefined()
      expect(JSON.parse(res.body.toString('utf8'))).toMatchObject({ statusCode: 500 })
    }
  })

  it('gives up a reader that takes nothing, and stops reading the pieces', async () => {
    const before = released
    let complete: boolean | undefined
    const req = request(`${base}/endless`, (res) => {
      // Never read: the sockets' buffers fill, the writer waits for the reader, then gives up.
      res.pause()
      complete = res.complete
      res.on('error', () => undefined)
    })
    req.on('error', () => undefined)
    req.end()
    try {
      await eventually(async () => released > before)
      expect(complete).toBe(false)
    }
    finally {
      req.destroy()
    }
  })
})

describe('pieces read ahead', () => {
  /** Pieces that each take a turn of the event loop to come, counting how many were made. */
  const counted = (n: number, failAt?: number) => {
    const state = { read: 0, done: false }
    const source = async (push: (piece: string) => void) => {
      try {
        for (let i = 0; i < n; i++) {
          await new Promise(resolve => setImmediate(resolve))
          if (i === failAt) throw new Error('the cursor broke')
          state.read++
          push(`${i}`)
        }
      }
      finally {
        state.done = true
      }
    }
    return { state, source }
  }

  it('are all read while their reader takes none, and given to it in order', async () => {
    const { state, source } = counted(20)
    const pieces = readAhead(source)
    await eventually(async () => state.done)
    expect(state.read).toBe(20)
    const got: string[] = []
    for await (const p of pieces) got.push(p)
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `${i}`))
  })

  it('go on being read to the end when their reader stops', async () => {
    const { state, source } = counted(20)
    const pieces = readAhead(source)
    expect((await pieces.next()).value).toBe('0')
    await pieces.return(undefined)
    await eventually(async () => state.done)
    expect(state.read).toBe(20)
  })

  it('give their reader the failure after the pieces read before it', async () => {
    const { source } = counted(20, 5)
    const got: string[] = []
    await expect((async () => {
      for await (const p of readAhead(source)) got.push(p)
    })()).rejects.toThrow('the cursor broke')
    expect(got).toEqual(['0', '1', '2', '3', '4'])
  })
})
