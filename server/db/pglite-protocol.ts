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

/** What a pass-through of backend messages does besides passing them on. */
export interface BackendMessageOptions {
  /** Leave out every ReadyForQuery. */
  dropReady: boolean
  /** Called with each NotificationResponse (LISTEN/NOTIFY), before the chunk holding it is passed on. */
  onNotification?: (channel: string, payload: string) => void
}

const notificationResponse = 'A'.charCodeAt(0)

/** Channel and payload of a NotificationResponse's body (sender's process id, channel, payload). */
function notificationOf(parts: Uint8Array[]): [string, string] {
  const body = Buffer.concat(parts)
  const channelEnd = body.indexOf(0, 4)
  return [body.toString('utf8', 4, channelEnd), body.toString('utf8', channelEnd + 1, body.indexOf(0, channelEnd + 1))]
}

/**
 * A pass-through for backend messages that can leave out every ReadyForQuery ('Z') and sees the
 * notifications go by. Messages may be split across chunks anywhere, so it keeps the framing (type
 * byte, 4-byte length) as it goes.
 */
export function backendMessages(emit: (chunk: Uint8Array) => void, opts: BackendMessageOptions): (chunk: Uint8Array) => void {
  let header = new Uint8Array(0)
  let remaining = 0
  let dropping = false
  let notification: Uint8Array[] | undefined
  return (chunk) => {
    const out: Uint8Array[] = []
    // Passed on as it came only when nothing was left out and no header is split across chunks
    // (a split header is held back until whole).
    let rebuilt = header.length > 0
    let i = 0
    while (i < chunk.length) {
      if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - i)
        const part = chunk.subarray(i, i + n)
        if (dropping) rebuilt = true
        else out.push(part)
        notification?.push(part)
        i += n
        remaining -= n
        if (remaining === 0 && notification) {
          opts.onNotification!(...notificationOf(notification))
          notification = undefined
        }
        continue
      }
      const take = chunk.subarray(i, i + 5 - header.length)
      const joined = new Uint8Array(header.length + take.length)
      joined.set(header)
      joined.set(take, header.length)
      header = joined
      i += take.length
      if (header.length < 5) {
        rebuilt = true
        break
      }
      remaining = new DataView(header.buffer, header.byteOffset, 5).getInt32(1) - 4
      dropping = opts.dropReady && header[0] === readyForQuery
      rebuilt ||= dropping
      if (header[0] === notificationResponse && opts.onNotification) notification = []
      if (!dropping) out.push(header)
      header = new Uint8Array(0)
    }
    if (!rebuilt) emit(chunk)
    else if (out.length === 1) emit(out[0]!)
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

/** A pass-through for backend messages that leaves out every ReadyForQuery ('Z'). */
export function withoutReadyForQuery(emit: (chunk: Uint8Array) => void): (chunk: Uint8Array) => void {
  return backendMessages(emit, { dropReady: true })
}

/**
 * The database as the socket server should see it: the same, with the extra ReadyForQuery removed,
 * and every notification its one session receives handed to `onNotification` as well (PGlite hands
 * its own listeners none of what passes through the socket).
 */
export function withPostgresErrorFraming(pg: PGlite, onNotification?: (channel: string, payload: string) => void): PGlite {
  const raw: RawStream = pg.execProtocolRawStream.bind(pg)
  const fixed: RawStream = (message, options) => {
    const dropReady = extended.has(message[0]!)
    if ((!dropReady && !onNotification) || !options?.onRawData) return raw(message, options)
    return raw(message, { ...options, onRawData: backendMessages(options.onRawData, { dropReady, onNotification }) })
  }
  return new Proxy(pg, {
    get(target, prop) {
      if (prop === 'execProtocolRawStream') return fixed
      const value: unknown = Reflect.get(target, prop, target)
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
}
