import { connect, Socket } from 'node:net'
import postgres from 'postgres'
import type { PGlite } from '@electric-sql/pglite'
import { databaseAvailability, type DatabaseAvailability, noAnswerCode, unavailableCode } from './availability.js'
import { withPostgresErrorFraming } from './pglite-protocol.js'
import { leanPostgis } from './postgis-bundle.js'
import { districtTimeZone } from '../domain/calendar.js'

/** The one SQL client of the application: tagged templates, snake_case columns seen as camelCase. */
export type Sql = postgres.Sql<Record<string, postgres.PostgresType>>
export type Tx = postgres.TransactionSql<Record<string, postgres.PostgresType>>

export type Backend = 'embedded' | 'postgres'

export interface Database {
  sql: Sql
  /**
   * The same database through connections of their own that plan a statement once and keep the plan
   * (plan_cache_mode force_generic_plan; the pool's connections plan every run, clientOptions), for
   * statements whose plan does not depend on their values and whose planning is a good part of their
   * time: the key-area preview planned in 1.7 ms and ran in 4.4. The embedded database: `sql` itself.
   */
  planned: Sql
  backend: Backend
  /** PostGIS version string, e.g. "3.6 USE_GEOS=1 ...". */
  postgis: string
  /** Whether ST_AsMVT works here (the embedded PostGIS is built without protobuf). */
  mvt: boolean
  /** Whether the database answers: closed after a connection failed, open again once a probe connects. */
  availability: DatabaseAvailability
  /**
   * Listens on a channel (LISTEN/NOTIFY) on a connection of its own, outside the pool. `lost` is
   * called when notifications may have been missed (the connection closed), `listening` whenever
   * they arrive again from now on (first at once, then after each reconnection). The embedded
   * database's one session hands them to the process as its answers pass by.
   * @returns a function that stops listening
   */
  listen: (channel: string, handlers: ListenHandlers) => Promise<() => void>
  close: () => Promise<void>
  /** Embedded only: a copy of the whole data directory, to start other databases from (tests). */
  dumpDataDir?: () => Promise<Blob>
}

/** What a listener on a channel is told. */
export interface ListenHandlers {
  notify: (payload: string) => void
  /** Notifications arrive from now on; those before may have been missed. */
  listening: () => void
  /** Notifications may be missed from now on, until `listening` is called again. */
  lost: () => void
}

/** Listeners by channel, as both backends keep them. */
function listenerRegistry() {
  const byChannel = new Map<string, Set<ListenHandlers>>()
  return {
    byChannel,
    add(channel: string, h: ListenHandlers) {
      const set = byChannel.get(channel) ?? new Set()
      set.add(h)
      byChannel.set(channel, set)
      return () => { set.delete(h) }
    },
    notify(channel: string, payload: string) {
      for (const h of byChannel.get(channel) ?? []) h.notify(payload)
    },
    all: () => [...byChannel.values()].flatMap(s => [...s]),
  }
}

export interface OpenOptions {
  /** PostgreSQL URL; when absent the embedded database is opened. */
  url?: string
  /** Embedded only: a directory to keep the data in, or undefined for an in-memory database. */
  dataDir?: string
  /** Embedded only: start from a dump made with PGlite's dumpDataDir (tests share one seeded copy). */
  loadDataDir?: Blob | File
  /** Connections in the pool (real PostgreSQL only; the embedded server takes one at a time). */
  max?: number
  /** Milliseconds to open a connection (TCP, start-up, authentication) before giving up (default 1.5 s; embedded 30 s). */
  connectTimeout?: number
  /**
   * Real PostgreSQL only: milliseconds a statement may run (statement_timeout of every session), 0 or
   * absent for no limit. Long jobs lift it for their transaction (`set local statement_timeout = 0`).
   */
  statementTimeout?: number
}

/** Long enough for a busy server to fork a backend and authenticate; short enough to answer 503 within 2 s. */
export const defaultConnectTimeout = 1500
const embeddedConnectTimeout = 30_000

/** Options shared by both backends, so both return the same JavaScript values. */
function clientOptions(max: number, connectTimeout = defaultConnectTimeout): postgres.Options<Record<string, postgres.PostgresType>> {
  return {
    max,
    connect_timeout: connectTimeout / 1000,
    // The driver's default waits up to 20 s (growing with every failure) before a pooled connection
    // tries again: requests queued for it hung that long during an outage, and after one it took
    // seconds to notice the server was back. Whether to try at all is the availability gate's
    // call now (it turns requests away while the server is down); a short pause is left against
    // a tight loop of reconnections.
    backoff: () => 0.05,
    onnotice: () => {},
    transform: postgres.camel,
    // Every statement is prepared, and from its sixth run on a connection PostgreSQL may switch to
    // a generic plan made without the values: for a box, a tile or a town that plan was 2-3 times
    // slower (premises in a box 53 -> 161 ms, a zoom-10 tile 47 -> 110 ms at 100,000 premises;
    // `npm run bench -- --plans-only`). Planning each run costs well under a millisecond here.
    // No JIT: a statement estimated past jit_above_cost (attachment 5 at 1,000,000 premises) spent
    // about half a second compiling itself before a run of a second or less.
    connection: { application_name: 'group-rental-dashboard', TimeZone: districtTimeZone, plan_cache_mode: 'force_custom_plan', jit: 'off' },
    types: {
      // Counts and ids fit in a double; strings would leak into every JSON answer.
      int8: { to: 20, from: [20], serialize: (x: number | bigint) => String(x), parse: (x: string) => Number(x) },
      // Calendar dates stay 'YYYY-MM-DD': a JS Date would shift them by the server's time zone.
      date: { to: 1082, from: [1082], serialize: (x: string) => x, parse: (x: string) => x },
    },
  }
}

async function probe(sql: Sql): Promise<{ postgis: string; mvt: boolean }> {
  const [row] = await sql<{ v: string }[]>`select postgis_version() as v`
  let mvt = true
  try {
    await sql`select st_asmvt(q) from (select st_asmvtgeom(st_makepoint(0, 0), st_makeenvelope(-1, -1, 1, 1)) as g) q`
  }
  catch {
    mvt = false
  }
  return { postgis: row!.v, mvt }
}

async function openEmbedded(opts: OpenOptions): Promise<Database> {
  const [{ PGlite }, { postgis }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-postgis'),
    import('@electric-sql/pglite-socket'),
  ])
  const pg: PGlite = await PGlite.create({
    dataDir: opts.dataDir,
    loadDataDir: opts.loadDataDir,
    extensions: { postgis: leanPostgis(postgis) },
  })
  await pg.exec('create extension if not exists postgis')
  // Its one session ignores the start-up parameters that set this on PostgreSQL (clientOptions).
  await pg.exec('set plan_cache_mode = force_custom_plan')
  // The same driver as for PostgreSQL talks to PGlite over a loopback socket: one code path.
  const listeners = listenerRegistry()
  const server = new PGLiteSocketServer({ db: withPostgresErrorFraming(pg, listeners.notify), port: 0, host: '127.0.0.1', maxConnections: 1 })
  await server.start()
  const [host, port] = server.getServerConn().split(':')
  const sql = postgres({
    // PGlite answers from this very thread, and a long statement of another embedded database in the
    // process (tests open several) holds it: a short connect timeout would fail connections that are
    // merely waiting their turn. The embedded server cannot be away, so the driver's own default stays.
    ...clientOptions(1, opts.connectTimeout ?? embeddedConnectTimeout),
    host,
    port: Number(port),
    database: 'postgres',
    username: 'postgres',
  }) as unknown as Sql
  const caps = await probe(sql)
  // The embedded server takes one connection, the pool's own, so that is what is probed.
  const availability = databaseAvailability(async () => { await sql`select 1` })
  return {
    sql,
    planned: sql,
    backend: 'embedded',
    ...caps,
    availability,
    // One session, the process's own: LISTEN there, and its notifications pass by on the socket.
    listen: async (channel, handlers) => {
      await sql`listen ${sql(channel)}`
      const remove = listeners.add(channel, handlers)
      handlers.listening()
      return remove
    },
    close: async () => {
      availability.close()
      await sql.end({ timeout: 5 })
      await server.stop()
      await pg.close()
    },
    dumpDataDir: () => pg.dumpDataDir('none'),
  }
}

/** What the driver hands a socket factory: where to connect. */
interface SocketTarget { host: string[]; port: number[]; path?: string | false }

/**
 * The pool's connections, opened here rather than by the driver so that the availability gate can
 * refuse them: once the server is known to be away, the queries already queued for a connection
 * fail at once instead of each waiting out a connect timeout of its own (a host that vanished
 * without refusing). A refused connection reaches the driver as a refused TCP connection does: an
 * error, then close.
 */
function gatedSocket(target: SocketTarget, availability: () => DatabaseAvailability | undefined): Socket {
  if (availability()?.available === false) {
    const refused = new Socket()
    // After the driver has attached its listeners (it awaits the factory), as a refusal by the kernel would be.
    setImmediate(() => refused.destroy(Object.assign(new Error('the database is unavailable (waiting for it to answer again)'), { code: unavailableCode })))
    return refused
  }
  const host = target.host[0]!
  // Writes made while connecting are buffered by the socket; the driver's connect timeout runs meanwhile.
  const socket = target.path ? connect(target.path) : connect(target.port[0]!, host)
  // Closed before the server sent a byte, and not by the server (a cancel request's connection is
  // ended by it): the driver gave up waiting (connect timeout) or the connection was refused. The
  // gate closes here, before the driver's own close handler (registered after this one) hands the
  // next queued query a new connection: closed only once a request reported the failure, that came
  // too late, and the queued query waited out a second connect timeout.
  let ended = false
  let failure: NodeJS.ErrnoException | undefined
  socket.once('end', () => (ended = true))
  socket.once('error', (e: NodeJS.ErrnoException) => (failure = e))
  socket.once('close', () => {
    if (socket.bytesRead > 0 || ended) return
    availability()?.report(Object.assign(
      new Error(`no answer from the database before the connection closed (${failure?.code ?? 'connect timeout'})`), { code: noAnswerCode }))
  })
  // The driver reads the name for TLS server-name indication from here when it opens the socket itself.
  return Object.assign(socket, { host })
}

async function openPostgres(url: string, opts: OpenOptions): Promise<Database> {
  let availability: DatabaseAvailability | undefined
  const options = {
    ...clientOptions(opts.max ?? 10, opts.connectTimeout),
    socket: (target: SocketTarget) => gatedSocket(target, () => availability),
  }
  if (opts.statementTimeout) options.connection = { ...options.connection, statement_timeout: opts.statementTimeout }
  const sql = postgres(url, options) as unknown as Sql
  // Fewer: only the statements that ask come here.
  const planned = postgres(url, {
    ...options, max: Math.max(2, Math.ceil((opts.max ?? 10) / 3)),
    connection: { ...options.connection, plan_cache_mode: 'force_generic_plan' },
  }) as unknown as Sql
  await sql`create extension if not exists postgis`
  const caps = await probe(sql)
  // Probed on a connection of its own, which the gate does not hold back.
  availability = databaseAvailability(async () => {
    const once = postgres(url, { ...clientOptions(1, opts.connectTimeout), fetch_types: false })
    try {
      await once`select 1`
    }
    finally {
      await once.end({ timeout: 0 })
    }
  })
  const listener = postgresListener(url, opts.connectTimeout)
  return {
    sql,
    planned,
    backend: 'postgres',
    ...caps,
    availability,
    listen: listener.listen,
    close: async () => {
      availability?.close()
      await listener.close()
      await Promise.all([sql.end({ timeout: 5 }), planned.end({ timeout: 5 })])
    },
  }
}

/**
 * One connection that LISTENs for every channel asked for. When it closes (a restart, its lifetime
 * over) every listener is told notifications may be lost, and it LISTENs again, every 250 ms until
 * the server answers; then they are told notifications arrive again. The driver's own `listen`
 * gives up after one failed attempt, which would leave caches waiting for news that never comes.
 */
function postgresListener(url: string, connectTimeout?: number) {
  const listeners = listenerRegistry()
  let closed = false
  let relistening: Promise<void> | undefined
  const options = {
    ...clientOptions(1, connectTimeout),
    connection: { application_name: 'group-rental-dashboard listener', TimeZone: districtTimeZone },
    fetch_types: false,
    max_lifetime: null,
    onclose: () => {
      if (closed) return
      for (const h of listeners.all()) h.lost()
      relistening ??= relisten().finally(() => { relistening = undefined })
    },
  }
  // The driver's connection option for notifications, which its types leave out (its own listen uses it).
  const onnotify = (channel: string, payload: string) => listeners.notify(channel, payload)
  const conn = postgres(url, Object.assign(options, { onnotify })) as unknown as Sql
  const listenAll = async () => {
    for (const channel of listeners.byChannel.keys()) await conn`listen ${conn(channel)}`
  }
  async function relisten() {
    while (!closed) {
      try {
        await listenAll()
        for (const h of listeners.all()) h.listening()
        return
      }
      catch {
        await new Promise(resolve => setTimeout(resolve, 250))
      }
    }
  }
  return {
    async listen(channel: string, handlers: ListenHandlers): Promise<() => void> {
      await conn`listen ${conn(channel)}`
      const remove = listeners.add(channel, handlers)
      handlers.listening()
      return remove
    },
    async close() {
      closed = true
      await relistening?.catch(() => {})
      await conn.end({ timeout: 1 })
    },
  }
}

/** Opens PostgreSQL when a URL is given, otherwise the embedded PGlite + PostGIS. */
export async function openDatabase(opts: OpenOptions = {}): Promise<Database> {
  return opts.url ? openPostgres(opts.url, opts) : openEmbedded(opts)
}
