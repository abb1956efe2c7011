/**
 * Writes the OpenAPI document generated from the route schemas to server/schemas/openapi.json
 * (`npm run openapi`). The file is committed, so that a change to the API shows in review as a
 * change to the document; tests/server/health.test.ts fails while the two differ.
 */
import { writeFileSync } from 'node:fs'
import postgres from 'postgres'
import { buildApp } from '../server/app.js'
import { databaseAvailability } from '../server/db/availability.js'
import type { Database, Sql } from '../server/db/index.js'
import { piiKeysFrom } from '../server/domain/pii.js'
import { openApiFile, openApiText } from '../server/schemas/openapi.js'

// The document comes from the route schemas alone and building the app sends no query, so no
// database is opened: a client that would connect on its first query stands in (opening the
// embedded database only to leave it unused takes from seconds to a minute).
const sql = postgres({ host: '127.0.0.1', port: 1, max: 1 }) as unknown as Sql
const db: Database = {
  sql,
  planned: sql,
  backend: 'embedded',
  postgis: '',
  mvt: false,
  availability: databaseAvailability(async () => {}),
  listen: async () => () => {},
  close: () => sql.end({ timeout: 0 }),
}
const app = await buildApp({ db, keys: piiKeysFrom(Buffer.alloc(32)), imports: { sweep: false } })
try {
  const text = openApiText(app.swagger())
  writeFileSync(openApiFile, text)
  console.log(`wrote ${openApiFile}: ${Object.keys(JSON.parse(text).paths).length} paths`)
}
finally {
  await app.close()
  await db.close()
}
