import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { Sql, Tx } from '../../server/db/index.js'
import { rootDir } from '../../server/lib/config.js'
import { applyFunctions, functionFiles, migrate, migrationFiles } from '../../server/db/migrate.js'
import { openTestDatabase, type TestDatabase } from '../helpers/db.js'
import { testAppRole } from '../helpers/pg-url.js'

/**
 * Functions and triggers have their current definition in server/db/functions/*.sql, applied after
 * the migrations (server/db/migrate.ts): what the database runs is what those files say, and no
 * function or trigger lives only in a migration.
 */

const embedded = inject('backend') === 'embedded'
let db: TestDatabase
beforeAll(async () => {
  db = await openTestDatabase('migrated')
})
afterAll(() => db.close())

/** Every function of ours (not PostGIS's) by signature, and every trigger by table, with their definitions as the database prints them. */
async function definitions(sql: Sql | Tx) {
  const functions = await sql<{ signature: string; definition: string }[]>`
    select p.oid::regprocedure::text as signature, pg_get_functiondef(p.oid) as definition
    from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
    order by 1`
  const triggers = await sql<{ name: string; definition: string }[]>`
    select tgrelid::regclass::text || '.' || tgname as name, pg_get_triggerdef(oid) || ' ' || tgenabled::text as definition
    from pg_trigger where not tgisinternal order by 1`
  return { functions: [...functions], triggers: [...triggers] }
}

/** The names the files define: functions, and triggers as table.trigger. */
async function defined() {
  const text = (await functionFiles()).map(f => f.text).join('\n')
  return {
    functions: [...text.matchAll(/^create or replace function (\w+)\(/gm)].map(m => m[1]!).sort(),
    triggers: [...text.matchAll(/^create or replace trigger (\w+)\s[^;]*?\son (\w+)\s/gm)].map(m => `${m[2]}.${m[1]}`).sort(),
  }
}

class RolledBack extends Error {}

/**
 * The migrations written before the function files (023 to 027 on branches that did not have them
 * yet), which defined functions and triggers themselves; the files repeat their last definitions.
 * A later migration that defined one would be overwritten by the file's older definition as soon
 * as the files are applied after it.
 */
const migrationsThatDefineFunctions = [
  '001_schema.sql', '003_rules.sql', '005_map.sql', '006_tile_cells.sql', '007_measure_deltas.sql',
  '009_reports_imports.sql', '010_report_deltas.sql', '011_report_premises_deltas.sql', '012_sign_in_attempts.sql',
  '013_least_privilege.sql', '014_import_staging.sql', '020_search.sql', '021_photos_tasks.sql',
  '023_leads.sql', '025_report_entry.sql', '027_figures_version.sql',
]

describe('the function files', () => {
  it('define every function and trigger of the migrated database, and nothing it lacks', async () => {
    const inDatabase = await definitions(db.sql)
    const inFiles = await defined()
    expect(inFiles.functions.length).toBeGreaterThan(20)
    expect(inFiles.triggers.length).toBeGreaterThan(15)
    expect([...new Set(inDatabase.functions.map(f => f.signature.replace(/\(.*$/, '')))].sort()).toEqual(inFiles.functions)
    expect(inDatabase.triggers.map(t => t.name).sort()).toEqual(inFiles.triggers)
  })

  it('are the only place a function or trigger is defined, apart from the migrations written before them', async () => {
    const defining: string[] = []
    for (const name of await migrationFiles()) {
      const text = await readFile(join(rootDir, 'server', 'db', 'migrations', name), 'utf8')
      if (/^\s*create\s+(?:or\s+replace\s+)?(?:constraint\s+)?(?:function|trigger|procedure)\b/im.test(text)) defining.push(name)
    }
    // A new name here: move its function or trigger into server/db/functions/ instead.
    expect(defining).toEqual(migrationsThatDefineFunctions)
  })

  it('change no definition when applied again to the migrated database', async () => {
    const before = await definitions(db.owner)
    let after: Awaited<ReturnType<typeof definitions>> | undefined
    await db.owner.begin(async (tx) => {
      for (const f of await functionFiles()) await tx.unsafe(f.text).simple()
      after = await definitions(tx)
      throw new RolledBack()
    }).catch((e: unknown) => {
      if (!(e instanceof RolledBack)) throw e
    })
    expect(after).toEqual(before)
  })

  it('are recorded as applied, so that a start with nothing changed only reads, as the app\'s role', async () => {
    const files = await functionFiles()
    const recorded = await db.sql<{ file: string; sha256: string }[]>`select file, sha256 from schema_function order by file`
    expect(recorded.map(r => ({ ...r }))).toEqual(files.map(f => ({ file: f.name, sha256: f.sha256 })))
    await asAppRole(async () => {
      expect(await applyFunctions(db.sql)).toEqual([])
      expect(await migrate(db.sql)).toEqual([])
    })
  })

  it('are applied again, all of them, when one has changed since, and the app\'s role may not do it', async () => {
    await db.owner`update schema_function set sha256 = 'changed since' where file = ${(await functionFiles())[0]!.name}`
    const refused = await asAppRole(() => applyFunctions(db.sql).then(() => 'applied', (e: { code?: string }) => e.code))
    expect(refused).toBe('42501')
    const files = await functionFiles()
    expect(await applyFunctions(db.owner)).toEqual(files.map(f => f.name))
    const recorded = await db.sql<{ file: string; sha256: string }[]>`select file, sha256 from schema_function order by file`
    expect(recorded.map(r => ({ ...r }))).toEqual(files.map(f => ({ file: f.name, sha256: f.sha256 })))
    expect(await applyFunctions(db.owner)).toEqual([])
  })
})

/**
 * Runs `fn` with the app's connection as the app's role. On PostgreSQL it logs in as that role; the
 * embedded database has one user and one connection, which takes the role for the while.
 */
async function asAppRole<T>(fn: () => Promise<T>): Promise<T> {
  if (!embedded) return fn()
  await db.sql`set role ${db.sql(testAppRole.name)}`
  try {
    return await fn()
  }
  finally {
    await db.sql`reset role`
  }
}
