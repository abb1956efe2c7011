import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { rootDir } from '../lib/config.js'
import type { Sql, Tx } from './index.js'

const migrationsDir = join(rootDir, 'server', 'db', 'migrations')
const functionsDir = join(rootDir, 'server', 'db', 'functions')

/** Migration files in the order they apply: the number prefix decides. */
export async function migrationFiles(): Promise<string[]> {
  return (await readdir(migrationsDir)).filter(f => /^\d{3}_[\w-]+\.sql$/.test(f)).sort()
}

/** The advisory lock that serialises schema changes: migrations and the grants that follow them. */
export const schemaLock = 727274

/** A file of current function and trigger definitions, with the hash it is recorded under once applied. */
export interface FunctionFile {
  name: string
  text: string
  sha256: string
}

/**
 * The current definition of every function and trigger, in the order they apply (by file name):
 * idempotent SQL (`create or replace function`, `create or replace trigger`). Migrations keep the
 * tables; a function or trigger changes here, and its file wins because it runs after them.
 */
export async function functionFiles(): Promise<FunctionFile[]> {
  const names = (await readdir(functionsDir)).filter(f => /^[\w-]+\.sql$/.test(f)).sort()
  return Promise.all(names.map(async (name) => {
    const text = await readFile(join(functionsDir, name), 'utf8')
    return { name, text, sha256: createHash('sha256').update(text).digest('hex') }
  }))
}

/** Whether the files differ from those last applied (one added, removed or changed). */
async function functionsChanged(db: Sql | Tx, files: FunctionFile[]): Promise<boolean> {
  const applied = await db<{ file: string; sha256: string }[]>`select file, sha256 from schema_function`
  const was = new Map(applied.map(r => [r.file, r.sha256]))
  return was.size !== files.length || files.some(f => was.get(f.name) !== f.sha256)
}

/**
 * Applies every function file, in one transaction under the migrations' lock, when `always` (a
 * migration ran, and may have defined a function of its own) or when the files differ from those
 * last applied; otherwise it only reads, as migrate does with nothing to apply.
 * @returns the names of the files applied (all of them), or none
 */
export async function applyFunctions(sql: Sql, always = false): Promise<string[]> {
  const files = await functionFiles()
  if (!always && !(await functionsChanged(sql, files))) return []
  return sql.begin(async (tx) => {
    await tx`set local statement_timeout = 0`
    await tx`select pg_advisory_xact_lock(${schemaLock})`
    if (!always && !(await functionsChanged(tx, files))) return []
    for (const f of files) await tx.unsafe(f.text).simple()
    await tx`delete from schema_function`
    await tx`insert into schema_function ${tx(files.map(f => ({ file: f.name, sha256: f.sha256 })))}`
    return files.map(f => f.name)
  }) as Promise<string[]>
}

/**
 * Applies the migrations not yet applied, each in its own transaction, then the function files
 * (applyFunctions); safe to run again and from several processes at once (an advisory lock
 * serialises them). With nothing to apply it only reads, so the app's own role (which may create
 * nothing) can run it too.
 * @returns the names of the migration files applied by this call
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
  await applyFunctions(sql, applied.length > 0)
  return applied
}
