/** Applies pending migrations to the configured database (they also run at start-up). */
import { loadConfig } from '../server/config.js'
import { openConfiguredDatabase } from '../server/db/configured.js'
import { migrate } from '../server/db/migrate.js'

const db = await openConfiguredDatabase(loadConfig())
try {
  const applied = await migrate(db.sql)
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply: the schema is up to date')
}
finally {
  await db.close()
}
