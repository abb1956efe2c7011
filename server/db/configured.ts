import { join } from 'node:path'
import { type Config, dataDir } from '../config.js'
import { loadPiiKeys, type PiiKeys } from '../domain/pii.js'
import { type Backend, type Database, openDatabase } from './index.js'

/** The database the configuration names: DATABASE_URL, or the embedded one under data/. */
export function openConfiguredDatabase(config: Config): Promise<Database> {
  return openDatabase(config.databaseUrl
    ? { url: config.databaseUrl, max: config.databasePoolSize, connectTimeout: config.databaseConnectTimeoutMs, statementTimeout: config.databaseStatementTimeoutMs }
    : { dataDir: config.embeddedDir })
}

/**
 * Personal-data keys: PII_KEY from the environment, or for the embedded demo a key generated once
 * under data/keys. A real PostgreSQL deployment must be given its key explicitly.
 */
export function piiKeysFor(config: Config, backend: Backend): PiiKeys {
  return loadPiiKeys({
    envKey: config.piiKey,
    keyFile: backend === 'embedded' ? join(dataDir, 'keys', 'pii.key') : undefined,
  })
}
