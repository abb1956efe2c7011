/**
 * The launcher: checks that the web app is built, opens the database (embedded by default), applies
 * migrations as the database's owner, seeds the demo district into an empty embedded database, then
 * listens. `--create-roles` creates the app's restricted database role (README "Database roles").
 */
import { parseArgs } from 'node:util'
import { buildApp } from './app.js'
import { loadConfig } from './lib/config.js'
import { piiKeysFor, prepareConfiguredDatabase } from './db/configured.js'
import { isEmpty, seedDemo } from './seed/demo.js'
import { seedDemoLeads } from './seed/readings.js'
import { webDistState } from './plugins/external/web-dist.js'

const { values: flags } = parseArgs({ options: { 'create-roles': { type: 'boolean', default: false } } })
const config = loadConfig()

// `npm install` builds the web app; starting only serves it, so production needs no build tools.
const web = webDistState(config.webDist)
if (web === 'missing') {
  console.error(`The web app is not built (${config.webDist} is missing): run \`npm run build\` with the dev dependencies installed (\`npm install\` does both), then start again.`)
  process.exit(1)
}
if (web === 'stale') console.warn('The web sources changed since web/dist was built: run `npm run build` to serve the changes.')

console.log(config.databaseUrl
  ? `Opening PostgreSQL (DATABASE_URL${config.databaseOwnerUrl ? ', migrations as DATABASE_OWNER_URL' : ''})…`
  : `Opening the embedded database in ${config.embeddedDir}…`)
const configured = await prepareConfiguredDatabase(config, { createRoles: flags['create-roles'], log: m => console.log(`\n${m}\n`) })
const { db, applied } = configured
if (applied.length) console.log(`Applied migrations: ${applied.join(', ')}`)

// Demo data goes only into the embedded database (or where asked for): a real deployment starts empty.
const demo = db.backend === 'embedded' || process.env.SEED_DEMO === '1'
if (demo && (await isEmpty(db.sql))) {
  const premises = Number(process.env.DEMO_PREMISES || 5000)
  console.log(`The database is empty: seeding the demo district with ${premises.toLocaleString('en')} premises (synthetic data, see data/README.md)…`)
  // The seed switches the row triggers off with ALTER TABLE: the owner's right, not the app's.
  const summary = await seedDemo(configured.owner.sql, {
    premises, seed: 20191227, keys: piiKeysFor(config, db.backend), batch: 2000,
    // Demo users only on the embedded demo database, never on a real PostgreSQL.
    demoUsers: db.backend === 'embedded',
  })
  // Outside the seed's transaction, so past the statement time limit unless lifted.
  await configured.owner.sql.begin(async (tx) => {
    await tx`set local statement_timeout = 0`
    await tx`analyze`
  })
  console.log(`Seeded ${summary.premises} premises, ${summary.residents} residents, ${summary.hazards} hazards in ${(summary.ms / 1000).toFixed(1)} s.`)
  const readings = await seedDemoLeads(configured.owner.sql, { seed: 20191227 })
  console.log(`Seeded ${readings.accounts} meter accounts with a year of readings and scored ${readings.leads} leads in ${(readings.ms / 1000).toFixed(1)} s.`)
}

await configured.closeOwner()

const app = await buildApp({
  db,
  keys: piiKeysFor(config, db.backend),
  webRoot: config.webDist,
  trustProxy: config.trustProxy,
  basemap: config.basemap,
  publicUrl: config.publicUrl,
  logger: {
    level: config.logLevel,
    // Query strings are left out of the logs: they may carry search terms about people.
    serializers: {
      req: req => ({ method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip }),
    },
    redact: ['req.headers.cookie', 'res.headers["set-cookie"]'],
  },
})

let closing = false
async function shutdown(signal: string) {
  if (closing) return
  closing = true
  app.log.info(`${signal}: closing`)
  await app.close()
  // Closing the embedded database cleanly keeps its files consistent.
  await configured.close()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))

await app.listen({ port: config.port, host: config.host })
if (demo && (await app.users.setting<boolean>('demo_mode'))) console.log('Demo mode: sign in as leader, commander, analyst, inspector or admin with the password demo1234.')
console.log(`Ready: http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}/  (${db.backend} database, API docs at /api/docs)`)
if (!config.publicUrl && (config.host === '0.0.0.0' || config.host === '::')) {
  console.log('PUBLIC_URL is not set: the OGC API\'s links name this machine\'s loopback address; set PUBLIC_URL to the address GIS clients use.')
}
