import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join, resolve } from 'node:path'

/** Repository root, whichever file imports this. */
export const rootDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** Where the embedded database and the demo keys live. */
export const dataDir = join(rootDir, 'data')

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
  /**
   * The address users and GIS clients reach this service at (scheme, host, port, any path prefix of
   * a reverse proxy), for the absolute links of the OGC API. Unset: the address it listens on.
   */
  publicUrl: string | undefined
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
    publicUrl: publicUrlFromEnv(env),
  }
}
