import { readFileSync } from 'node:fs'
import { inject } from 'vitest'
import { type Database, openDatabase, type Sql } from '../../server/db/index.js'
import { adminUrl, appRoleUrl, databaseUrl } from './pg-url.js'

export type Template = 'migrated' | 'seeded'

/** A test file's own database. */
export interface TestDatabase extends Database {
  /**
   * The same database as its owner, for what the app's role may not do (migrations, the demo seed,
   * fixtures that alter tables). On the embedded database it is `sql` itself: there is one user.
   */
  owner: Sql
  /** PostgreSQL only: the URL the app's connection uses (the restricted role). */
  url?: string
  /** PostgreSQL only: the owner's URL. */
  ownerUrl?: string
}

/**
 * A database of this test file's own, copied from a template prepared by the global setup:
 * 'seeded' holds the small demo district, 'migrated' only the schema and reference data. On
 * PostgreSQL `sql` connects as the restricted role the app runs as in production, `owner` as the
 * server's superuser. Close it with the returned database's close(), which also drops the copy.
 */
export async function openTestDatabase(template: Template = 'seeded'): Promise<TestDatabase> {
  const source = inject(template === 'seeded' ? 'seededTemplate' : 'migratedTemplate')
  if (inject('backend') === 'embedded') {
    const dump = readFileSync(source)
    const db = await openDatabase({ loadDataDir: new Blob([dump]) })
    return { ...db, owner: db.sql }
  }
  const url = process.env.DATABASE_URL!
  const name = `grd_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const admin = await openDatabase({ url: adminUrl(url), max: 1 })
  await admin.sql.unsafe(`create database "${name}" template "${source}"`)
  await admin.close()
  const ownerUrl = databaseUrl(url, name)
  const owner = await openDatabase({ url: ownerUrl, max: 2 })
  const appUrl = appRoleUrl(ownerUrl)
  const db = await openDatabase({ url: appUrl, max: 4 })
  return {
    ...db,
    owner: owner.sql,
    url: appUrl,
    ownerUrl,
    close: async () => {
      await db.close()
      await owner.close()
      const a = await openDatabase({ url: adminUrl(url), max: 1 })
      await a.sql.unsafe(`drop database if exists "${name}" with (force)`)
      await a.close()
    },
  }
}
