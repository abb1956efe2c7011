import postgres from 'postgres'

/**
 * How a failed query says the database, not the request, is at fault:
 * - `unreachable`: no connection can be opened now (server stopped, starting up, full, host gone);
 * - `lost`: an open connection died under the query (server shut down or restarted, connection killed);
 * - `timeout`: the statement ran past its time limit or waited too long for a lock.
 */
export type DatabaseFailure = 'unreachable' | 'lost' | 'timeout'

/** The code of a connection the availability gate refused (the database was known to be away). */
export const unavailableCode = 'DATABASE_UNAVAILABLE'

/** The code the gate is told when one of the pool's connections closed before the server sent a byte. */
export const noAnswerCode = 'DATABASE_NO_ANSWER'

// The driver's own codes for connections it gave up on or that closed under a query, and the gate's.
const driverCodes: Record<string, DatabaseFailure> = {
  [unavailableCode]: 'unreachable',
  [noAnswerCode]: 'unreachable',
  CONNECT_TIMEOUT: 'unreachable',
  CONNECTION_CLOSED: 'lost',
  CONNECTION_ENDED: 'lost',
  CONNECTION_DESTROYED: 'lost',
}

// SQLSTATEs the server sends when it will not serve anybody right now, or cut a statement short.
const serverCodes: Record<string, DatabaseFailure> = {
  '57P01': 'lost', // admin_shutdown: fast or immediate shutdown, or pg_terminate_backend
  '57P02': 'lost', // crash_shutdown: another backend crashed, everybody is thrown out
  '57P03': 'unreachable', // cannot_connect_now: starting up, shutting down, in recovery
  '53300': 'unreachable', // too_many_connections
  '57014': 'timeout', // query_canceled: statement_timeout (nothing here cancels queries otherwise)
  '55P03': 'timeout', // lock_not_available: lock_timeout
}

/** The database-side reason a query failed, or undefined when the failure is the query's own. */
export function databaseFailure(err: unknown): DatabaseFailure | undefined {
  if (!(err instanceof Error)) return undefined
  const code = (err as { code?: unknown }).code
  if (typeof code !== 'string') return undefined
  if (err instanceof postgres.PostgresError) {
    if (serverCodes[code]) return serverCodes[code]
    // Class 08, connection exceptions: refused or broken off. A protocol violation (08P01) is a bug, not an outage.
    if (code === '08006' || code === '08003') return 'lost'
    return code.startsWith('08') && code !== '08P01' ? 'unreachable' : undefined
  }
  if (driverCodes[code]) return driverCodes[code]
  // Socket errors reach the query the driver was running or opening a connection for; the driver
  // marks every error it hands to a query with the query's text, so other sockets' errors (a client
  // that hung up) are not mistaken for the database's. Most carry the system call that failed; a
  // write to a socket the server had already closed carries only its code (Node's EPIPE, "This
  // socket has been ended by the other party").
  const system = err as { syscall?: unknown }
  if (!('query' in err)) return undefined
  if (system.syscall === 'connect' || system.syscall === 'getaddrinfo' || unreachableSocketCodes.has(code)) return 'unreachable'
  return typeof system.syscall === 'string' || lostSocketCodes.has(code) ? 'lost' : undefined
}

/** Socket codes that say the server's host cannot be reached, or one under way was broken off. */
const unreachableSocketCodes = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND'])
const lostSocketCodes = new Set(['EPIPE', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT'])

/** Whether the database answers, as far as the application has seen. */
export interface DatabaseAvailability {
  /** False from a failure to connect until a probe connects again. */
  readonly available: boolean
  /** When it was last seen unavailable (ms since the epoch), or null while it is available. */
  readonly downSince: number | null
  /**
   * Reports a query's failure. One that says no connection can be opened closes the gate: requests
   * are answered 503 at once instead of queueing for connections that cannot be made, and the
   * database is probed until it answers. Other failures leave the gate open.
   */
  report: (err: unknown) => void
  /** Calls `listener` with the new state whenever it changes (for the log); returns how to stop. */
  onChange: (listener: (available: boolean, detail: string) => void) => () => void
  /** Stops probing. */
  close: () => void
}

/**
 * The gate in front of the database: open while it answers, closed after a connection could not be
 * made, probed every `intervalMs` while closed and open again as soon as a probe gets an answer.
 * @param probe resolves when the database answers a query on a fresh connection
 */
export function databaseAvailability(probe: () => Promise<void>, intervalMs = 250): DatabaseAvailability {
  let downSince: number | null = null
  let closed = false
  let timer: NodeJS.Timeout | undefined
  const listeners: ((available: boolean, detail: string) => void)[] = []
  const emit = (available: boolean, detail: string) => {
    for (const l of listeners) l(available, detail)
  }

  async function probeOnce() {
    timer = undefined
    if (closed || downSince === null) return
    try {
      await probe()
      if (closed || downSince === null) return
      const was = downSince
      downSince = null
      emit(true, `the database answers again after ${((Date.now() - was) / 1000).toFixed(1)} s`)
    }
    catch {
      if (!closed) timer = setTimeout(() => void probeOnce(), intervalMs)
    }
  }

  return {
    get available() { return downSince === null },
    get downSince() { return downSince },
    report(err) {
      if (closed || downSince !== null || databaseFailure(err) !== 'unreachable') return
      downSince = Date.now()
      emit(false, `the database cannot be reached (${(err as { code?: string }).code}): answering 503 until it is back`)
      timer = setTimeout(() => void probeOnce(), 0)
    },
    onChange(listener) {
      listeners.push(listener)
      return () => {
        const i = listeners.indexOf(listener)
        if (i >= 0) listeners.splice(i, 1)
      }
    },
    close() {
      closed = true
      if (timer) clearTimeout(timer)
    },
  }
}
