import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../server/db/index.js'
import { openTestDatabase } from '../helpers/db.js'

/**
 * Prepared statements keep a plan made for their values (server/db/index.ts): a generic plan, made
 * without them, was 2-3 times slower for a box or a tile from the sixth run on a connection.
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
})
