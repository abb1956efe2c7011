/**
 * Seeds the demo district: `npm run seed -- --premises 100000 --seed 7`.
 * Uses DATABASE_URL when set (as DATABASE_OWNER_URL's owner when that is set too: the seed switches
 * row triggers off, which only the owner may), otherwise the embedded database under data/.
 */
import { parseArgs } from 'node:util'
import { loadConfig } from '../server/lib/config.js'
import { piiKeysFor, prepareConfiguredDatabase } from '../server/db/configured.js'
import { seedDemo } from '../server/seed/demo.js'
import { seedDemoLeads } from '../server/seed/readings.js'

const { values } = parseArgs({
  options: {
    premises: { type: 'string', default: '5000' },
    seed: { type: 'string', default: '20191227' },
    'hazard-scale': { type: 'string', default: '1' },
  },
})
const premises = Number(values.premises)
const seed = Number(values.seed)
const hazardScale = Number(values['hazard-scale'])
if (!Number.isInteger(premises) || premises < 1) throw new Error('--premises must be a positive whole number')
if (!Number.isInteger(seed)) throw new Error('--seed must be a whole number')
if (!(hazardScale > 0)) throw new Error('--hazard-scale must be a positive number')

const config = loadConfig()
const configured = await prepareConfiguredDatabase(config)
const db = configured.owner
try {
  const summary = await seedDemo(db.sql, { premises, seed, hazardScale, keys: piiKeysFor(config, db.backend), log: m => console.log(m), batch: db.backend === 'embedded' ? 2000 : 10000 })
  const readings = await seedDemoLeads(db.sql, { seed })
  console.log(`readings and leads in ${(readings.ms / 1000).toFixed(1)} s`, readings)
  await db.sql`analyze`
  console.log(`seeded in ${(summary.ms / 1000).toFixed(1)} s`, summary)
}
finally {
  await configured.close()
}
