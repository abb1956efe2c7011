import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/** The key area's page and attachment 3 count the houses inside by one rule (keyAreaCounts). */
let t: TestApp
let leader: string

beforeAll(async () => {
  t = await buildTestApp()
  leader = await signIn(t.app, 'leader')
})
afterAll(() => t.close())

describe('a key area\'s houses', () => {
  it('are the same on the key area\'s page and in attachment 3, for every listed key area', async () => {
    const areas = await t.db.sql<{ id: number; townId: number }[]>`
      select id, town_id from key_area where deleted_at is null and status <> 'draft' order by id`
    expect(areas.length).toBeGreaterThan(3)
    const tables = new Map<number, { rows: { id: string; values: Record<string, number | string | null> }[] }>()
    let compared = 0
    for (const k of areas) {
      if (!tables.has(k.townId)) {
        const res = await t.app.inject({ url: `/api/reports/attachment-3?town=${k.townId}`, headers: { cookie: leader } })
        expect(res.statusCode, res.body).toBe(200)
        tables.set(k.townId, res.json())
      }
      const row = tables.get(k.townId)!.rows.find(r => r.id === `key_area:${k.id}`)
      expect(row, `key area ${k.id} in attachment 3`).toBeDefined()
      const page = await t.app.inject({ url: `/api/key-areas/${k.id}`, headers: { cookie: leader } })
      expect(page.statusCode, page.body).toBe(200)
      const counts = page.json().counts as Record<string, number>
      for (const key of ['houses', 'rentalHouses', 'groupRentals', 'groupRentalsWithHazards']) {
        expect(row!.values[key], `key area ${k.id} ${key}`).toBe(counts[key])
        compared++
      }
    }
    expect(compared).toBe(areas.length * 4)
    // Not a comparison of zeros.
    expect([...tables.values()].flatMap(x => x.rows).some(r => Number(r.values.groupRentalsWithHazards) > 0)).toBe(true)
  })
})
