import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { openDatabase } from '../../server/db/index.js'
import { migrate } from '../../server/db/migrate.js'
import { createRuntimeRole, grantRuntime } from '../../server/db/roles.js'
import { seedDemo } from '../../server/seed/demo.js'
import { dumpWithoutSpareWal } from './dump.js'
import { testKeys, testSeed } from './keys.js'
import { adminUrl, databaseUrl, templateNames, testAppRole } from './pg-url.js'

declare module 'vitest' {
  export interface ProvidedContext {
    backend: 'embedded' | 'postgres'
    /** Embedded: files holding dumped data directories; postgres: template database names. */
    migratedTemplate: string
    seededTemplate: string
  }
}

/**
 * Prepares two starting points once per run: a migrated empty database and a migrated database
 * with the small demo district. Each test file then copies one (CREATE DATABASE ... TEMPLATE on
 * PostgreSQL, a data-directory dump on the embedded backend) instead of migrating and seeding again.
 * Both carry the grants of the tests' restricted role, which the app runs as on PostgreSQL.
 */
export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL
  if (url) {
    const admin = await openDatabase({ url: adminUrl(url), max: 1 })
    await createRuntimeRole(admin.sql, testAppRole.name, testAppRole.password)
    const names = templateNames()
    for (const name of [names.migrated, names.seeded]) {
      await admin.sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`
      await admin.sql.unsafe(`drop database if exists "${name}"`)
      await admin.sql.unsafe(`create database "${name}"`)
      const db = await openDatabase({ url: databaseUrl(url, name), max: 1 })
      await migrate(db.sql)
      await grantRuntime(db.sql, testAppRole.name)
      if (name === names.seeded) {
        await seedDemo(db.sql, { ...testSeed, keys: testKeys, demoUsers: true })
        await db.sql`analyze`
      }
      await db.close()
    }
    await admin.close()
    project.provide('backend', 'postgres')
    project.provide('migratedTemplate', names.migrated)
    project.provide('seededTemplate', names.seeded)
    return async () => {
      const a = await openDatabase({ url: adminUrl(url), max: 1 })
      for (const name of [names.migrated, names.seeded]) await a.sql.unsafe(`drop database if exists "${name}"`)
      await a.close()
    }
  }

  const dir = join(tmpdir(), `grd-test-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  const db = await openDatabase({})
  await migrate(db.sql)
  // The embedded database has one user, the process; the role is there for tests to SET ROLE to.
  await createRuntimeRole(db.sql, testAppRole.name, null)
  await grantRuntime(db.sql, testAppRole.name)
  const migratedFile = join(dir, 'migrated.tar')
  writeFileSync(migratedFile, await dumpWithoutSpareWal(db))
  await seedDemo(db.sql, { ...testSeed, keys: testKeys, demoUsers: true })
  await db.sql`analyze`
  const seededFile = join(dir, 'seeded.tar')
  writeFileSync(seededFile, await dumpWithoutSpareWal(db))
  await db.close()
  project.provide('backend', 'embedded')
  project.provide('migratedTemplate', migratedFile)
  project.provide('seededTemplate', seededFile)
  // The two dumps are some 170 MB: left behind, every run filled /tmp a little more.
  return () => rmSync(dir, { recursive: true, force: true })
}
