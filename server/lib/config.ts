import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join, resolve } from 'node:path'
import { defaultConnectTimeout } from '../db/index.js'

/** Repository root, whichever file imports this. */
export const rootDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Where the embedded database and the demo keys live. */
export const dataDir = join(rootDir, 'data')

/**
 * The longest an ordinary request's statement may run on PostgreSQL. The slowest ordinary requests
 * at a million premises (rings, clusters, attachment 5) take 1-5 s; a statement still running
 * after 15 s is waiting on a lock (an import's commit) or on an overloaded server, and is better
 * answered 503 than left hanging.
 */
export const defaultStatementTimeout = 15_000

export interface Config {
  /**
   * PostgreSQL + PostGIS connection string of the running app; unset means the embedded database
   * under data/. With databaseOwnerUrl it should be a role that owns nothing (README "Database roles").
   */
  databaseUrl: string | undefined
  /** The owner's connection to the same database, for migrations, grants and the demo seed. */
  databaseOwnerUrl: string | undefined
  /** The app's database role that `--create-roles` creates and the advice names. */
  appRole: string
  port: number
  host: string
  /** Directory of the embedded database (PGlite). */
  embeddedDir: string
  /** Built web front end served by the API process. */
  webDist: string
  logLevel: string
  /** Master key for personal data (32 bytes, base64). Generated under data/keys for the embedded demo. */
  piiKey: string | undefined
  /** Behind a TLS-terminating proxy: trust X-Forwarded-Proto/For (session cookies become Secure). */
  trustProxy: boolean
  /** Optional basemap: a raster PMTiles file, or a raster XYZ tile URL template. Off when neither is set. */
  basemap: Basemap
  /**
   * The address users and GIS clients reach this service at (scheme, host, port, any path prefix of
   * a reverse proxy), for the absolute links of the OGC API. Unset: the address it listens on.
   */
  publicUrl: string | undefined
  /** PostgreSQL only: connections in the pool. */
  databasePoolSize: number
  /** PostgreSQL only: milliseconds to open a database connection before the request is answered 503. */
  databaseConnectTimeoutMs: number
  /** PostgreSQL only: milliseconds an ordinary statement may run (0: no limit); imports and migrations lift it. */
  databaseStatementTimeoutMs: number
}

/**
 * Where the map's basemap comes from: nothing, a raster XYZ service (an intranet Tianditu proxy), a
 * PMTiles file of raster tiles, a PMTiles file of vector tiles (a Protomaps build), or the demo
 * district's street map from the database ('streets', chosen at request time when no other is set).
 */
export type BasemapType = 'none' | 'raster' | 'pmtiles' | 'vector-pmtiles' | 'streets'

export interface Basemap {
  type: BasemapType
  /** Tile URL template (raster, streets) or the path the PMTiles file is served at (pmtiles, vector-pmtiles). */
  url: string | null
  attribution: string | null
  /** The PMTiles file on disk. */
  file?: string
}

/**
 * Whether a PMTiles (version 3) file holds vector tiles, read from its header: byte 99 is the tile
 * type, 1 for Mapbox vector tiles (2 to 5 are PNG, JPEG, WebP, AVIF).
 */
export function pmtilesHoldsVectorTiles(file: string): boolean {
  const header = Buffer.alloc(127)
  const fd = openSync(file, 'r')
  try {
    readSync(fd, header, 0, 127, 0)
  }
  finally {
    closeSync(fd)
  }
  if (header.toString('latin1', 0, 7) !== 'PMTiles' || header[7] !== 3) throw new Error(`BASEMAP_PMTILES: ${file} is not a PMTiles version 3 file`)
  return header[99] === 1
}

function basemapFromEnv(env: NodeJS.ProcessEnv): Basemap {
  const attribution = env.BASEMAP_ATTRIBUTION || null
  if (env.BASEMAP_PMTILES) {
    const file = resolve(rootDir, env.BASEMAP_PMTILES)
    if (!existsSync(file)) throw new Error(`BASEMAP_PMTILES: no file at ${file}`)
    return { type: pmtilesHoldsVectorTiles(file) ? 'vector-pmtiles' : 'pmtiles', url: '/basemap/basemap.pmtiles', attribution, file }
  }
  if (env.BASEMAP_TILE_URL) {
    if (!/^https?:\/\/.+\{z\}.+\{x\}.+\{y\}/.test(env.BASEMAP_TILE_URL) && !/^https?:\/\/.+\{z\}.+\{y\}.+\{x\}/.test(env.BASEMAP_TILE_URL)) {
      throw new Error('BASEMAP_TILE_URL must be an http(s) URL with {z}, {x} and {y}')
    }
    return { type: 'raster', url: env.BASEMAP_TILE_URL, attribution }
  }
  return { type: 'none', url: null, attribution: null }
}

/** The app's database role when DATABASE_APP_ROLE names none. */
export const defaultAppRole = 'grd_app'

/** A database role name we are willing to write into SQL text: lower-case letters, digits and _. */
export function checkRoleName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`a database role name must be lower-case letters, digits and _ (got "${name}")`)
  return name
}

function ownerUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.DATABASE_OWNER_URL) return undefined
  if (!env.DATABASE_URL) throw new Error('DATABASE_OWNER_URL is the owner\'s connection for migrations: set DATABASE_URL (the app\'s connection) too')
  return env.DATABASE_OWNER_URL
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number, got "${raw}"`)
  return n
}

/** PUBLIC_URL without its trailing slash, refused unless it is an absolute http(s) URL with nothing after the path. */
function publicUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.PUBLIC_URL
  if (!raw) return undefined
  let url: URL
  try {
    url = new URL(raw)
  }
  catch {
    throw new Error(`PUBLIC_URL must be an absolute http(s) URL such as https://gis.example.gov.cn/grd, got "${raw}"`)
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || url.password) {
    throw new Error(`PUBLIC_URL must be an http(s) URL without query, fragment or credentials, got "${raw}"`)
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '')
}

function positiveIntFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number of at least ${min}, got "${raw}"`)
  return n
}

/** Reads the configuration from the environment once, failing with a message on bad values. */
export function loadConfig(env = process.env): Config {
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    databaseOwnerUrl: ownerUrlFromEnv(env),
    appRole: checkRoleName(env.DATABASE_APP_ROLE || defaultAppRole),
    port: intFromEnv(env, 'PORT', 3000),
    host: env.HOST || '127.0.0.1',
    embeddedDir: env.EMBEDDED_DB_DIR || join(dataDir, 'embedded'),
    webDist: join(rootDir, 'web', 'dist'),
    logLevel: env.LOG_LEVEL || 'info',
    piiKey: env.PII_KEY || undefined,
    trustProxy: env.TRUST_PROXY === '1' || env.TRUST_PROXY === 'true',
    basemap: basemapFromEnv(env),
    publicUrl: publicUrlFromEnv(env),
    databasePoolSize: positiveIntFromEnv(env, 'DATABASE_POOL_SIZE', 10, 1),
    databaseConnectTimeoutMs: positiveIntFromEnv(env, 'DATABASE_CONNECT_TIMEOUT_MS', defaultConnectTimeout, 100),
    databaseStatementTimeoutMs: positiveIntFromEnv(env, 'DATABASE_STATEMENT_TIMEOUT_MS', defaultStatementTimeout, 0),
  }
}
