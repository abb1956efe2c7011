import postgres from 'postgres'
import type { PGlite } from '@electric-sql/pglite'
import { withPostgresErrorFraming } from './pglite-protocol.js'

/** The one SQL client of the application: tagged templates, snake_case columns seen as camelCase. */
export type Sql = postgres.Sql<Record<string, postgres.PostgresType>>
export type Tx = postgres.TransactionSql<Record<string, postgres.PostgresType>>

export type Backend = 'embedded' | 'postgres'

export interface Database {
  sql: Sql
  backend: Backend
  /** PostGIS version string, e.g. "3.6 USE_GEOS=1 ...". */
  postgis: string
  /** Whether ST_AsMVT works here (the embedded PostGIS is built without protobuf). */
  mvt: boolean
  close: () => Promise<void>
  /** Embedded only: a copy of the whole data directory, to start other databases from (tests). */
  dumpDataDir?: () => Promise<Blob>
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
}

/** Options shared by both backends, so both return the same JavaScript values. */
function clientOptions(max: number): postgres.Options<Record<string, postgres.PostgresType>> {
  return {
    max,
    onnotice: () => {},
    transform: postgres.camel,
    connection: { application_name: 'group-rental-dashboard', TimeZone: 'Asia/Shanghai' },
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
    extensions: { postgis },
  })
  await pg.exec('create extension if not exists postgis')
  // The same driver as for PostgreSQL talks to PGlite over a loopback socket: one code path.
  const server = new PGLiteSocketServer({ db: withPostgresErrorFraming(pg), port: 0, host: '127.0.0.1', maxConnections: 1 })
  await server.start()
  const [host, port] = server.getServerConn().split(':')
  const sql = postgres({
    ...clientOptions(1),
    host,
    port: Number(port),
    database: 'postgres',
    username: 'postgres',
  }) as unknown as Sql
  const caps = await probe(sql)
  return {
    sql,
    backend: 'embedded',
    ...caps,
    close: async () => {
      await sql.end({ timeout: 5 })
      await server.stop()
      await pg.close()
    },
    dumpDataDir: () => pg.dumpDataDir('none'),
  }
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const sql = postgres(url, clientOptions(max)) as unknown as Sql
  await sql`create extension if not exists postgis`
  const caps = await probe(sql)
  return { sql, backend: 'postgres', ...caps, close: () => sql.end({ timeout: 5 }) }
}

/** Opens PostgreSQL when a URL is given, otherwise the embedded PGlite + PostGIS. */
export async function openDatabase(opts: OpenOptions = {}): Promise<Database> {
  return opts.url ? openPostgres(opts.url, opts.max ?? 10) : openEmbedded(opts)
}
