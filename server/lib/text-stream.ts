import { PassThrough, type Readable, type Writable } from 'node:stream'
import { createGzip } from 'node:zlib'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { acceptsGzip } from '../plugins/external/compress.js'

/**
 * How long a reader may leave the answer unread before it is given up: the cursor behind the
 * pieces holds one of the pool's connections while it waits.
 */
const readerStallMs = 30_000

/**
 * A response body written from pieces of text as they come, gzipped (level 4, as the compression
 * plugin does for whole answers) when the client takes it. The first piece is flushed through at
 * once, or gzip would hold it until a fuller block; later pieces go as the reader takes them (a
 * full buffer waits for it). A failure while reading the pieces, or a reader stalled for
 * `stallMs`, destroys the body, and Fastify cuts the connection: a half answer never looks whole
 * (before the headers have left, the failure is an ordinary error answer; `failed` is told first).
 * A reader that goes away stops the reading of the pieces.
 */
function textStream(pieces: AsyncGenerator<string>, gzip: boolean, stallMs: number, failed: () => void): Readable {
  const zipped = gzip ? createGzip({ level: 4 }) : null
  const out = zipped ?? new PassThrough()
  let first = true
  const pump = async () => {
    for await (const piece of pieces) {
      if (out.destroyed) return
      const more = out.write(piece)
      if (first) zipped?.flush()
      first = false
      if (!more && !(await drained(out, stallMs))) return
    }
    out.end()
  }
  pump().catch((e: unknown) => {
    failed()
    out.destroy(e instanceof Error ? e : new Error(String(e)))
  })
  return out
}

/**
 * Sends pieces of text as the answer, streamed (textStream), gzipped when the request takes gzip:
 * a stream passes the compression plugin untouched, so it is compressed here, piece by piece.
 */
export function sendTextStream(req: FastifyRequest, reply: FastifyReply, pieces: AsyncGenerator<string>, stallMs = readerStallMs): FastifyReply {
  const gzip = acceptsGzip(req.headers['accept-encoding'])
  reply.header('vary', 'Accept-Encoding')
  if (gzip) reply.header('content-encoding', 'gzip')
  // Before the headers have left, a failure is answered as any error is (a 503 while the database
  // is away), in plain JSON: the gzip this body would have carried must not be announced for it.
  // Whether they have left is the socket's to say, not whether a piece was written: gzip gives out
  // a written piece later, so a failure just after the first piece still finds them unsent.
  const failed = () => {
    if (reply.raw.headersSent) return
    reply.removeHeader('content-encoding')
    reply.raw.removeHeader('content-encoding')
  }
  return reply.send(textStream(pieces, gzip, stallMs, failed))
}

/** Whether the buffer drained (false: the body was closed, the reader gone); throws when it stalls. */
function drained(out: Writable, stallMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const done = (v: boolean | Error) => {
      clearTimeout(timer)
      out.off('drain', onDrain)
      out.off('close', onClose)
      if (v instanceof Error) reject(v)
      else resolve(v)
    }
    const onDrain = () => done(true)
    const onClose = () => done(false)
    const timer = setTimeout(() => done(new Error(`the reader took nothing for ${stallMs} ms`)), stallMs)
    out.on('drain', onDrain)
    out.on('close', onClose)
  })
}

/**
 * Pieces of text made by `produce` (handed to `push` as they come) and read to their end at once,
 * into memory, whatever the pace of whoever reads them: the reader is given them in order as they
 * come (the first at once), the failure of `produce` after the pieces made before it, and a reader
 * that stops or goes away stops only its own reading. For pieces kept whole at their end for others
 * (a map's points): read at the reader's pace, a slow client held the query's pooled connection and
 * every request waiting for the whole text for as long as its own download took.
 */
export function readAhead<T>(produce: (push: (piece: T) => void) => Promise<void>): AsyncGenerator<T> {
  const read: T[] = []
  let finished = false
  let failure: { error: unknown } | undefined
  let wake: (() => void) | undefined
  void (async () => {
    try {
      await produce((piece) => {
        read.push(piece)
        wake?.()
      })
    }
    catch (e) {
      failure = { error: e }
    }
    finally {
      finished = true
      wake?.()
    }
  })()
  return (async function* () {
    for (let i = 0; ;) {
      if (i < read.length) {
        yield read[i++]!
        continue
      }
      if (failure) throw failure.error
      if (finished) return
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      wake = undefined
    }
  })()
}
