/**
 * Wipes the embedded database under data/ (the next `npm start` recreates and reseeds it).
 * With DATABASE_URL set it refuses: dropping a real database is a decision for its administrator.
 */
import { rmSync } from 'node:fs'
import { loadConfig } from '../server/lib/config.js'

const config = loadConfig()
if (config.databaseUrl) {
  console.error('db:reset only wipes the embedded database; DATABASE_URL is set, so nothing was done.')
  process.exit(1)
}
rmSync(config.embeddedDir, { recursive: true, force: true })
console.log(`Removed ${config.embeddedDir}; the next \`npm start\` creates and seeds it again.`)
