import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  coordinateSystems, enforcementKinds, escalationAudiences, flagCategories, hazardCategories, hazardStatuses, leadBands, leadStatuses, measureKeys, placeKinds, noticeKinds, premisesKinds, revisitOutcomes, roles, supervisionKinds, visitOutcomes,
} from '../../server/domain/lists.js'
import { openTestDatabase, type TestDatabase } from '../helpers/db.js'

/**
 * The domain's lists are declared once (server/domain/lists.ts); the database enforces them with
 * CHECK constraints of its own, which must say the same, in the same order.
 */

let db: TestDatabase
beforeAll(async () => {
  db = await openTestDatabase('migrated')
})
afterAll(() => db.close())

/** The values a column's CHECK constraint admits, in the order it lists them. */
async function checkedValues(table: string, column: string): Promise<string[]> {
  const rows = await db.sql<{ definition: string }[]>`
    select pg_get_constraintdef(c.oid) as definition
    from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
    where c.contype = 'c' and c.conrelid = ${table}::regclass and a.attname = ${column} and cardinality(c.conkey) = 1`
  const lists = rows.map(r => [...r.definition.matchAll(/'([^']*)'::text/g)].map(m => m[1]!)).filter(l => l.length > 0)
  expect(lists, `one CHECK constraint listing the values of ${table}.${column}`).toHaveLength(1)
  return lists[0]!
}

describe('the database\'s CHECK constraints', () => {
  it.each([
    ['premises', 'kind', premisesKinds],
    ['hazard_category', 'code', hazardCategories],
    ['poi', 'kind', placeKinds],
    ['campaign_target', 'measure', measureKeys],
    ['app_user', 'role', roles],
    ['enforcement_event', 'kind', enforcementKinds],
    ['import_job', 'crs', coordinateSystems],
    ['lead', 'band', leadBands],
    ['lead', 'status', leadStatuses],
    ['lead', 'outcome', visitOutcomes],
    ['lead_visit', 'outcome', visitOutcomes],
    ['resident_flag', 'category', flagCategories],
    ['supervision_item', 'kind', supervisionKinds],
    ['escalation_rule', 'notify', escalationAudiences],
    ['notice', 'kind', noticeKinds],
    ['revisit_item', 'outcome', revisitOutcomes],
  ] as const)('on %s.%s list the values of the shared list', async (table, column, list) => {
    expect(await checkedValues(table, column)).toEqual([...list])
  })
})

describe('hazard_status()', () => {
  it('gives each status of the shared list, and no other', async () => {
    // One premises per status: no hazard; all rectified; open general; open major; open past its deadline.
    const rows = await db.sql<{ status: string }[]>`
      select hazard_status(h, o, m, d, '2020-06-29') as status
      from (values (0, 0, 0, null::date), (2, 0, 0, null), (2, 1, 0, '2020-07-01'::date), (2, 1, 1, '2020-07-01'::date), (2, 1, 0, '2020-06-01'::date)) v(h, o, m, d)`
    expect(rows.map(r => r.status)).toEqual([...hazardStatuses])
  })
})
