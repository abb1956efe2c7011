import type { PGlite } from '@electric-sql/pglite'

/**
 * PGlite answers an error in an extended-protocol message (Parse, Bind, Describe, Execute, Close)
 * with ErrorResponse *and* ReadyForQuery at once, and then ReadyForQuery again for the Sync that
 * ends the batch (electric-sql/pglite#958). PostgreSQL sends only the second. The `postgres` driver
 * pipelines queries on its one connection, so the extra ReadyForQuery ends the *next* query with
 * no rows and hands every later query the answer of the one before it: after one refused value
 * (a NUL, a number out of range) the embedded database answered the wrong questions. Dropping
 * ReadyForQuery from the answers to those five messages restores the protocol: a well-behaved
 * server never sends it there.
 */

/** Frontend messages of the extended protocol after which PostgreSQL never sends ReadyForQuery. */
const extended = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map(c => c.charCodeAt(0)))
const readyForQuery = 'Z'.charCodeAt(0)

type RawStream = PGlite['execProtocolRawStream']

/**
 * A pass-through for backend messages that leaves out every ReadyForQuery ('Z'). Messages may be
 * split across chunks anywhere, so it keeps the framing (type byte, 4-byte length) as it goes.
 */
export function withoutReadyForQuery(emit: (chunk: Uint8Array) => void): (chunk: Uint8Array) => void {
  let header = new Uint8Array(0)
  let remaining = 0
  let dropping = false
  return (chunk) => {
    const out: Uint8Array[] = []
    let i = 0
    while (i < chunk.length) {
      if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - i)
        if (!dropping) out.push(chunk.subarray(i, i + n))
        i += n
        remaining -= n
        continue
      }
      const take = chunk.subarray(i, i + 5 - header.length)
      const joined = new Uint8Array(header.length + take.length)
      joined.set(header)
      joined.set(take, header.length)
      header = joined
      i += take.length
      if (header.length < 5) break
      remaining = new DataView(header.buffer, header.byteOffset, 5).getInt32(1) - 4
      dropping = header[0] === readyForQuery
      if (!dropping) out.push(header)
      header = new Uint8Array(0)
    }
    if (out.length === 1) emit(out[0]!)
    else if (out.length > 1) {
      const all = new Uint8Array(out.reduce((n, c) => n + c.length, 0))
      let at = 0
      for (const c of out) {
        all.set(c, at)
        at += c.length
      }
      emit(all)
    }
  }
}

/** The database as the socket server should see it: the same, with the extra ReadyForQuery removed. */
export function withPostgresErrorFraming(pg: PGlite): PGlite {
  const raw: RawStream = pg.execProtocolRawStream.bind(pg)
  const fixed: RawStream = (message, options) => {
    if (!extended.has(message[0]!) || !options?.onRawData) return raw(message, options)
    return raw(message, { ...options, onRawData: withoutReadyForQuery(options.onRawData) })
  }
  return new Proxy(pg, {
    get(target, prop) {
      if (prop === 'execProtocolRawStream') return fixed
      const value: unknown = Reflect.get(target, prop, target)
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
}
