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
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number, got "${raw}"`)
  return n
}

/** Reads the configuration from the environment once, failing with a message on bad values. */
export function loadConfig(env = process.env): Config {
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    port: intFromEnv('PORT', 3000),
    host: env.HOST || '127.0.0.1',
    embeddedDir: env.EMBEDDED_DB_DIR || join(dataDir, 'embedded'),
    webDist: join(rootDir, 'web', 'dist'),
    logLevel: env.LOG_LEVEL || 'info',
    piiKey: env.PII_KEY || undefined,
    trustProxy: env.TRUST_PROXY === '1' || env.TRUST_PROXY === 'true',
  }
}

export function webIsBuilt(config: Config): boolean {
  return existsSync(join(config.webDist, 'index.html'))
}
