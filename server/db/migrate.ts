import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { rootDir } from '../lib/config.js'
import type { Sql } from './index.js'

const migrationsDir = join(rootDir, 'server', 'db', 'migrations')

/** Migration files in the order they apply: the number prefix decides. */
export async function migrationFiles(): Promise<string[]> {
  return (await readdir(migrationsDir)).filter(f => /^\d{3}_[\w-]+\.sql$/.test(f)).sort()
}

/** The advisory lock that serialises schema changes: migrations and the grants that follow them. */
export const schemaLock = 727274

/**
 * Applies the migrations not yet applied, each in its own transaction; safe to run again and
 * from several processes at once (an advisory lock serialises them). With nothing to apply it
 * only reads, so the app's own role (which may create nothing) can run it too.
 * @returns the names of the files applied by this call
 */
export async function migrate(sql: Sql): Promise<string[]> {
  const [table] = await sql<{ exists: boolean }[]>`select to_regclass('schema_migration') is not null as exists`
  if (!table!.exists) {
    await sql`create table if not exists schema_migration (
      name text primary key, applied_at timestamptz not null default now())`
  }
  const applied: string[] = []
  for (const name of await migrationFiles()) {
    const text = await readFile(join(migrationsDir, name), 'utf8')
    const done = await sql.begin(async (tx) => {
      // A migration may rewrite big tables: the application's statement time limit is not for it.
      await tx`set local statement_timeout = 0`
      await tx`select pg_advisory_xact_lock(${schemaLock})`
      const [row] = await tx`select 1 from schema_migration where name = ${name}`
      if (row) return false
      await tx.unsafe(text).simple()
      await tx`insert into schema_migration (name) values (${name})`
      return true
    })
    if (done) applied.push(name)
  }
  return applied
}
