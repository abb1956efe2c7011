import { describe, expect, it } from 'vitest'
import { openTestDatabase } from '../helpers/db.js'

/** The embedded database's notifications (the rest of its protocol in db-protocol.test.ts). */
describe('notifications of the embedded database', () => {
  it('reach the process from a real commit before its answer does', async () => {
    const db = await openTestDatabase('migrated')
    try {
      const seen: string[] = []
      await db.listen('grd_versions', { notify: p => seen.push(p), listening: () => {}, lost: () => {} })
      const [row] = await db.sql<{ version: number }[]>`update data_version set version = version + 1 returning version`
      // A bump by hand says no areas: the whole map changed.
      expect(seen).toContain(`data_version ${row!.version} *`)
    }
    finally {
      await db.close()
    }
  })
})
