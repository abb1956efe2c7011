/**
 * Applies pending migrations to the configured database (they also run at start-up): as the owner
 * (DATABASE_OWNER_URL) when one is set, then the app's grants; `-- --create-roles` as for `npm start`.
 */
import { parseArgs } from 'node:util'
import { loadConfig } from '../server/lib/config.js'
import { prepareConfiguredDatabase } from '../server/db/configured.js'

const { values } = parseArgs({ options: { 'create-roles': { type: 'boolean', default: false } } })
const configured = await prepareConfiguredDatabase(loadConfig(), { createRoles: values['create-roles'], log: m => console.log(m) })
try {
  const { applied } = configured
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply: the schema is up to date')
}
finally {
  await configured.close()
}
