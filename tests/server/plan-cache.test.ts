import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../server/db/index.js'
import { openTestDatabase } from '../helpers/db.js'

/**
 * Prepared statements keep a plan made for their values (server/db/index.ts): a generic plan, made
 * without them, was 2-3 times slower for a box or a tile from the sixth run on a connection. The
 * key-area preview, whose plan does not depend on them, is planned once (db.planned).
 */
describe('the app\'s connections', () => {
  let db: Database
  beforeAll(async () => {
    db = await openTestDatabase('migrated')
  })
  afterAll(() => db.close())

  it('plan every run of a prepared statement for its own values', async () => {
    const [row] = await db.sql<{ mode: string }[]>`select current_setting('plan_cache_mode') as mode`
    expect(row!.mode).toBe('force_custom_plan')
  })

  it('and keep one plan on the connections of statements that ask for it (db.planned): on PostgreSQL a pool of their own', async () => {
    const [row] = await db.planned<{ mode: string }[]>`select current_setting('plan_cache_mode') as mode`
    if (db.backend === 'postgres') {
      expect(row!.mode).toBe('force_generic_plan')
      expect(db.planned).not.toBe(db.sql)
    }
    else {
      expect(db.planned).toBe(db.sql)
      expect(row!.mode).toBe('force_custom_plan')
    }
  })
})
