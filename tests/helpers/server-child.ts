/**
 * The application as its own process, for tests that kill it: opens the database the environment
 * names (DATABASE_URL, or an embedded one kept in EMBEDDED_DB_DIR, first filled from the dump in
 * LOAD_DUMP), applies migrations, listens on a free port and prints it as one line of JSON.
 * Started by tests/helpers/server-process.ts with `node --import tsx`.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildApp } from '../../server/app.js'
import { openDatabase } from '../../server/db/index.js'
import { migrate } from '../../server/db/migrate.js'
import { testKeys } from './keys.js'

const env = process.env
const dataDir = env.EMBEDDED_DB_DIR
const db = env.DATABASE_URL
  ? await openDatabase({ url: env.DATABASE_URL, max: 4 })
  : await openDatabase({
    dataDir,
    // A first start copies the test template; later starts open what the killed process left.
    loadDataDir: dataDir && env.LOAD_DUMP && !existsSync(join(dataDir, 'PG_VERSION')) ? new Blob([readFileSync(env.LOAD_DUMP)]) : undefined,
  })
await migrate(db.sql)
const app = await buildApp({
  db,
  keys: testKeys,
  imports: { dir: env.UPLOAD_ROOT, bulkRows: env.IMPORT_BULK_ROWS ? Number(env.IMPORT_BULK_ROWS) : undefined },
})
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`)
