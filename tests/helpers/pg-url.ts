import { urlAs } from '../../server/db/roles.js'

/** The same server as url, another database. */
export function databaseUrl(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** The maintenance database, for CREATE and DROP DATABASE. */
export function adminUrl(url: string): string {
  return databaseUrl(url, 'postgres')
}

/** Template names unique to this run, so two runs on one server do not collide. */
export function templateNames() {
  const tag = process.env.TEST_RUN_TAG ?? String(process.pid)
  return { migrated: `grd_tpl_migrated_${tag}`, seeded: `grd_tpl_seeded_${tag}` }
}

/**
 * The restricted role the tests run the app as (server/db/roles.ts). Roles belong to the whole
 * server, so every run shares this one; the password matters only on a server that asks for one.
 */
export const testAppRole = { name: 'grd_test_app', password: 'grd_test_app' }

/** The same server and database as url, logged in as the tests' restricted role. */
export function appRoleUrl(url: string): string {
  return urlAs(url, testAppRole.name, testAppRole.password)
}
