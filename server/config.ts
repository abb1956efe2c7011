import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join, resolve } from 'node:path'
import { defaultConnectTimeout } from './db/index.js'

/** Repository root, whichever file imports this. */
export const rootDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')

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
  /** PostgreSQL + PostGIS connection string; unset means the embedded database under data/. */
  databaseUrl: string | undefined
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
  /** PostgreSQL only: connections in the pool. */
  databasePoolSize: number
  /** PostgreSQL only: milliseconds to open a database connection before the request is answered 503. */
  databaseConnectTimeoutMs: number
  /** PostgreSQL only: milliseconds an ordinary statement may run (0: no limit); imports and migrations lift it. */
  databaseStatementTimeoutMs: number
}

export interface Basemap {
  type: 'none' | 'raster' | 'pmtiles'
  /** Tile URL template (raster) or the path the PMTiles file is served at (pmtiles). */
  url: string | null
  attribution: string | null
  /** The PMTiles file on disk. */
  file?: string
}

function basemapFromEnv(env: NodeJS.ProcessEnv): Basemap {
  const attribution = env.BASEMAP_ATTRIBUTION || null
  if (env.BASEMAP_PMTILES) {
    const file = resolve(rootDir, env.BASEMAP_PMTILES)
    if (!existsSync(file)) throw new Error(`BASEMAP_PMTILES: no file at ${file}`)
    return { type: 'pmtiles', url: '/basemap/basemap.pmtiles', attribution, file }
  }
  if (env.BASEMAP_TILE_URL) {
    if (!/^https?:\/\/.+\{z\}.+\{x\}.+\{y\}/.test(env.BASEMAP_TILE_URL) && !/^https?:\/\/.+\{z\}.+\{y\}.+\{x\}/.test(env.BASEMAP_TILE_URL)) {
      throw new Error('BASEMAP_TILE_URL must be an http(s) URL with {z}, {x} and {y}')
    }
    return { type: 'raster', url: env.BASEMAP_TILE_URL, attribution }
  }
  return { type: 'none', url: null, attribution: null }
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number, got "${raw}"`)
  return n
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
    port: intFromEnv(env, 'PORT', 3000),
    host: env.HOST || '127.0.0.1',
    embeddedDir: env.EMBEDDED_DB_DIR || join(dataDir, 'embedded'),
    webDist: join(rootDir, 'web', 'dist'),
    logLevel: env.LOG_LEVEL || 'info',
    piiKey: env.PII_KEY || undefined,
    trustProxy: env.TRUST_PROXY === '1' || env.TRUST_PROXY === 'true',
    basemap: basemapFromEnv(env),
    databasePoolSize: positiveIntFromEnv(env, 'DATABASE_POOL_SIZE', 10, 1),
    databaseConnectTimeoutMs: positiveIntFromEnv(env, 'DATABASE_CONNECT_TIMEOUT_MS', defaultConnectTimeout, 100),
    databaseStatementTimeoutMs: positiveIntFromEnv(env, 'DATABASE_STATEMENT_TIMEOUT_MS', defaultStatementTimeout, 0),
  }
}

export function webIsBuilt(config: Config): boolean {
  return existsSync(join(config.webDist, 'index.html'))
}
