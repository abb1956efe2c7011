import { join } from 'node:path'
import { type Config, dataDir } from '../lib/config.js'
import { loadPiiKeys, type PiiKeys } from '../domain/pii.js'
import { type Backend, type Database, openDatabase, type OpenOptions } from './index.js'
import { migrate } from './migrate.js'
import { connectionRole, createRuntimeRole, grantRuntime, newRolePassword, rolesAdvice, urlAs, withoutPassword } from './roles.js'

/** The configured database, migrated, with the connections its users need. */
export interface ConfiguredDatabase {
  /** The running app's connection: the runtime role when one is configured (or was just created). */
  db: Database
  /** The owner's connection (migrations, the demo seed): `db` itself when there is only one URL. */
  owner: Database
  /** Migration files applied while opening. */
  applied: string[]
  /** Closes the owner's connection when it is a second one; the app needs none of its rights. */
  closeOwner: () => Promise<void>
  /** Closes every connection still open. */
  close: () => Promise<void>
}

export interface PrepareOptions {
  /** `npm start -- --create-roles`: create the runtime role and its grants when the one URL may. */
  createRoles?: boolean
  /** Where explanations for the operator go (the launcher prints them). */
  log?: (message: string) => void
}

/**
 * The running app's pool as configured: its size and time limits (an owner's connection keeps none:
 * migrations run long). `npm start`'s, and the app the benches serve.
 */
export function appConnection(config: Config, url: string): OpenOptions {
  return { url, max: config.databasePoolSize, connectTimeout: config.databaseConnectTimeoutMs, statementTimeout: config.databaseStatementTimeoutMs }
}

function pair(db: Database, owner: Database, applied: string[]): ConfiguredDatabase {
  let ownerOpen = owner !== db
  const closeOwner = async () => {
    if (!ownerOpen) return
    ownerOpen = false
    await owner.close()
  }
  return { db, owner, applied, closeOwner, close: async () => { await closeOwner(); await db.close() } }
}

/**
 * Opens the database the configuration names and applies pending migrations as its owner:
 * - the embedded database under data/ (one superuser, the process; nothing to split);
 * - DATABASE_OWNER_URL and DATABASE_URL: migrations and grants as the owner, the app as the runtime role;
 * - DATABASE_URL alone, as today: when it connects as a superuser or the tables' owner, the operator is
 *   told how to set up the two roles (or, with `createRoles`, the runtime role is created and used).
 */
export async function prepareConfiguredDatabase(config: Config, opts: PrepareOptions = {}): Promise<ConfiguredDatabase> {
  const log = opts.log ?? (() => {})
  if (!config.databaseUrl) {
    const db = await openDatabase({ dataDir: config.embeddedDir })
    const applied = await migrate(db.sql)
    if (opts.createRoles) {
      log('--create-roles: the embedded database is a single-user file owned by this process, so it has no roles to create; its protection is the permissions of its directory.')
    }
    return pair(db, db, applied)
  }

  if (config.databaseOwnerUrl) {
    const owner = await openDatabase({ url: config.databaseOwnerUrl, max: 2 })
    let db: Database | undefined
    try {
      const applied = await migrate(owner.sql)
      db = await openDatabase(appConnection(config, config.databaseUrl!))
      const runtime = await connectionRole(db.sql)
      await grantRuntime(owner.sql, runtime.user)
      await warnAboutSchemaRights(owner, runtime.user, log)
      return pair(db, owner, applied)
    }
    catch (e) {
      await db?.close()
      await owner.close()
      throw e
    }
  }

  const db = await openDatabase(appConnection(config, config.databaseUrl!))
  try {
    const current = await connectionRole(db.sql)
    let applied: string[]
    try {
      applied = await migrate(db.sql)
    }
    catch (e) {
      if ((e as { code?: string }).code !== '42501' || current.superuser) throw e
      throw new Error(`DATABASE_URL connects as "${current.user}", which may not change the schema, and migrations are pending: `
        + 'set DATABASE_OWNER_URL to the owner\'s connection (README "Database roles")', { cause: e })
    }
    const after = await connectionRole(db.sql)
    if (!after.superuser && !after.ownsTables) return pair(db, db, applied)
    if (!opts.createRoles) {
      log(rolesAdvice(config.databaseUrl, after, config.appRole))
      return pair(db, db, applied)
    }
    if (!after.createRole) {
      log(`--create-roles: "${after.user}" may not create roles; ask an administrator to run step 1 below.\n\n${rolesAdvice(config.databaseUrl, after, config.appRole)}`)
      return pair(db, db, applied)
    }
    const password = newRolePassword()
    const created = await createRuntimeRole(db.sql, config.appRole, password)
    await grantRuntime(db.sql, config.appRole)
    await warnAboutSchemaRights(db, config.appRole, log)
    if (!created) {
      log([
        `--create-roles: the role "${config.appRole}" exists already. Its grants were applied again; its password was left as it is,`,
        'so this run keeps its current connection. Start with',
        `  DATABASE_OWNER_URL=${withoutPassword(config.databaseUrl)}`,
        `  DATABASE_URL=${urlAs(config.databaseUrl, config.appRole, 'PASSWORD')}`,
      ].join('\n'))
      return pair(db, db, applied)
    }
    const runtimeUrl = urlAs(config.databaseUrl, config.appRole, password)
    const app = await openDatabase(appConnection(config, runtimeUrl))
    log([
      `Created the database role "${config.appRole}" for the app: it reads and writes data, and cannot alter tables, switch triggers off`,
      'or rewrite the audit trail and submitted tables. This run already uses it. From now on start with',
      `  DATABASE_OWNER_URL=${withoutPassword(config.databaseUrl)}   (migrations and grants)`,
      `  DATABASE_URL=${runtimeUrl}   (the app)`,
      'The password is shown this once: keep it as a secret (ALTER ROLE changes it).',
    ].join('\n'))
    return pair(app, db, applied)
  }
  catch (e) {
    await db.close()
    throw e
  }
}

/**
 * PostgreSQL before 15 lets every role create tables in schema public; the runtime role should not
 * (its own tables and functions are not ours to vouch for). Said, not changed: the schema may be shared.
 */
async function warnAboutSchemaRights(owner: Database, role: string, log: (message: string) => void): Promise<void> {
  const [row] = await owner.sql<{ inSchema: boolean; inDatabase: boolean; database: string }[]>`
    select has_schema_privilege(${role}, 'public', 'CREATE') as in_schema,
           has_database_privilege(${role}, current_database(), 'CREATE') as in_database, current_database() as database`
  const fixes = [
    ...row!.inSchema ? ['revoke create on schema public from public;'] : [],
    ...row!.inDatabase ? [`revoke create on database "${row!.database}" from public, ${role};`] : [],
  ]
  if (fixes.length) log(`The app's role "${role}" may create objects in this database; take that away as the owner: ${fixes.join(' ')}`)
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
