import { readFileSync } from 'node:fs'
import { inject } from 'vitest'
import { type Database, openDatabase } from '../../server/db/index.js'
import { adminUrl, databaseUrl } from './pg-url.js'

export type Template = 'migrated' | 'seeded'

/**
 * A database of this test file's own, copied from a template prepared by the global setup:
 * 'seeded' holds the small demo district, 'migrated' only the schema and reference data.
 * Close it with the returned database's close(), which also drops the copy.
 */
export async function openTestDatabase(template: Template = 'seeded'): Promise<Database> {
  const source = inject(template === 'seeded' ? 'seededTemplate' : 'migratedTemplate')
  if (inject('backend') === 'embedded') {
    const dump = readFileSync(source)
    return openDatabase({ loadDataDir: new Blob([dump]) })
  }
  const url = process.env.DATABASE_URL!
  const name = `grd_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const admin = await openDatabase({ url: adminUrl(url), max: 1 })
  await admin.sql.unsafe(`create database "${name}" template "${source}"`)
  await admin.close()
  const db = await openDatabase({ url: databaseUrl(url, name), max: 4 })
  return {
    ...db,
    close: async () => {
      await db.close()
      const a = await openDatabase({ url: adminUrl(url), max: 1 })
      await a.sql.unsafe(`drop database if exists "${name}" with (force)`)
      await a.close()
    },
  }
}
