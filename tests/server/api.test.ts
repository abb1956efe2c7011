import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AreaLevelSchema } from '../../server/schemas/reference.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

let t: TestApp
let cookie: string
beforeAll(async () => {
  t = await buildTestApp()
  // A district-wide role: these contract tests look at the whole district.
  cookie = await signIn(t.app, 'leader')
})
afterAll(() => t.close())

const get = (url: string) => t.app.inject({ method: 'GET', url, headers: { cookie } })

describe('GET /api/premises', () => {
  it('answers GeoJSON points with only id, kind, status and the unregistered flag', async () => {
    const res = await get('/api/premises?limit=100000')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/application\/geo\+json/)
    const fc = res.json()
    expect(fc.type).toBe('FeatureCollection')
    expect(fc.features).toHaveLength(600)
    expect(fc.truncated).toBe(false)
    for (const f of fc.features) {
      expect(f.type).toBe('Feature')
      expect(f.geometry.type).toBe('Point')
      expect(Object.keys(f.properties).sort()).toEqual(['id', 'kind', 'status', 'unregistered'])
    }
    // Nothing personal anywhere in the answer.
    expect(res.body).not.toMatch(/owner|landlord|phone|name|address|resident/i)
  })

  it('limits the answer and says so', async () => {
    const fc = (await get('/api/premises?limit=10')).json()
    expect(fc.features).toHaveLength(10)
    expect(fc.numberReturned).toBe(10)
    expect(fc.truncated).toBe(true)
  })

  it('keeps only premises inside the bbox', async () => {
    const bbox = [119.95, 31.82, 120.01, 31.88]
    const fc = (await get(`/api/premises?bbox=${bbox.join(',')}`)).json()
    expect(fc.features.length).toBeGreaterThan(0)
    const [db] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from premises where st_x(geom) between ${bbox[0]!} and ${bbox[2]!} and st_y(geom) between ${bbox[1]!} and ${bbox[3]!}`
    expect(fc.features.length).toBe(db!.n)
    for (const f of fc.features) {
      const [x, y] = f.geometry.coordinates
      expect(x).toBeGreaterThanOrEqual(bbox[0]!)
      expect(x).toBeLessThanOrEqual(bbox[2]!)
      expect(y).toBeGreaterThanOrEqual(bbox[1]!)
      expect(y).toBeLessThanOrEqual(bbox[3]!)
    }
  })

  it('filters by kind, status, town, major and overdue', async () => {
    const all = (await get('/api/premises')).json().features as { properties: { kind: string; status: string } }[]
    const kinds = (await get('/api/premises?kind=group_rental,homestay')).json().features as typeof all
    expect(kinds.length).toBe(all.filter(f => ['group_rental', 'homestay'].includes(f.properties.kind)).length)
    const overdue = (await get('/api/premises?status=overdue')).json().features as typeof all
    expect(overdue.length).toBe(all.filter(f => f.properties.status === 'overdue').length)
    expect(overdue.length).toBeGreaterThan(0)
    const [town] = await t.db.sql<{ id: number; n: number }[]>`select town_id as id, count(*)::int as n from premises group by 1 order by 2 desc limit 1`
    expect((await get(`/api/premises?town=${town!.id}`)).json().features).toHaveLength(town!.n)
    const [major] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from premises where open_major_count > 0`
    expect((await get('/api/premises?major=true')).json().features).toHaveLength(major!.n)
    const overdueOnly = (await get('/api/premises?overdue=true')).json().features
    expect(overdueOnly).toHaveLength(overdue.length)
  })

  it('judges status on the day asked for', async () => {
    const early = (await get('/api/premises?status=overdue&asOf=2020-01-01')).json().features
    const late = (await get('/api/premises?status=overdue&asOf=2020-12-31')).json().features
    expect(early.length).toBeLessThan(late.length)
  })

  it.each([
    ['limit=0', /limit must be >= 1/, /^查询参数 limit 不能小于 1$/],
    ['limit=abc', /limit must be integer/, /^查询参数 limit 类型应为 integer$/],
    ['limit=1000001', /limit must be <= 100000/, /^查询参数 limit 不能大于 100000$/],
    ['bbox=1,2,3', /bbox has the wrong form/, /^查询参数 bbox 格式不对$/],
    ['bbox=120,32,119,31', /minimum must not exceed its maximum/, /最小值不能大于最大值/],
    ['bbox=200,0,201,1', /within -180..180/, /经度 -180～180/],
    ['kind=castle', /kind has the wrong form/, /kind 格式不对/],
    ['status=bogus', /status has the wrong form/, /status 格式不对/],
    ['town=abc', /town has the wrong form/, /town 格式不对/],
    ['asOf=2020-02-30', /not a real calendar date/, /“2020-02-30”不是有效日期/],
    ['foundFrom=yesterday', /foundFrom has the wrong form/, /foundFrom 格式不对/],
    ['colour=red', /unknown query parameter "colour"/, /^未知的查询参数“colour”$/],
  ])('refuses %s with 400 and a message that says what is wrong, in English and Chinese', async (query, message, messageZh) => {
    const res = await get(`/api/premises?${query}`)
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' })
    expect(res.json().message).toMatch(message)
    expect(res.json().messageZh).toMatch(messageZh)
  })

  it('answers an unknown path with 404 in both languages', async () => {
    const res = await get('/api/nothing-here')
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ message: 'GET /api/nothing-here does not exist', messageZh: 'GET /api/nothing-here 不存在' })
  })
})

describe('GET /api/stats/summary', () => {
  it('gives the four measures with numerator, denominator, rate and target for the district and each town', async () => {
    const res = await get('/api/stats/summary')
    expect(res.statusCode).toBe(200)
    const s = res.json()
    expect(s.asOf).toBe('2020-12-31')
    expect(s.towns).toHaveLength(10)
    expect(s.district.measures.map((m: { key: string }) => m.key)).toEqual(
      ['group_rentals_registered', 'residents_registered', 'major_hazards_rectified', 'hazards_rectified'])
    expect(s.district.measures.map((m: { target: number | null }) => m.target)).toEqual([1, 0.95, 1, null])
    for (const area of [s.district, ...s.towns]) {
      for (const m of area.measures) {
        expect(m.numerator).toBeLessThanOrEqual(m.denominator)
        expect(m.rate).toBe(m.denominator ? m.numerator / m.denominator : null)
        expect(m.met).toBe(m.target === null || m.rate === null ? null : m.rate >= m.target)
      }
    }
    // The district is the sum of its towns.
    for (const [i] of s.district.measures.entries()) {
      const sum = (k: 'numerator' | 'denominator') => s.towns.reduce((a: number, town: { measures: Record<string, number>[] }) => a + town.measures[i]![k]!, 0)
      expect(s.district.measures[i].numerator).toBe(sum('numerator'))
      expect(s.district.measures[i].denominator).toBe(sum('denominator'))
    }
  })

  it('equals an independent recount from the raw rows on a past day', async () => {
    const day = '2020-06-29'
    const s = (await get(`/api/stats/summary?asOf=${day}`)).json()
    const premises = await t.db.sql<{ id: number; kind: string; meetsRule: boolean; foundOn: string; registeredOn: string | null; deregisteredOn: string | null }[]>`
      select id, kind, meets_rule, found_on, registered_on, deregistered_on from premises`
    const residents = await t.db.sql<{ premisesId: number; movedInOn: string; movedOutOn: string | null; registeredOn: string | null }[]>`
      select premises_id, moved_in_on, moved_out_on, registered_on from resident`
    const hazards = await t.db.sql<{ severity: string; foundAt: Date; rectifiedAt: Date | null }[]>`
      select severity, found_at, rectified_at from hazard`
    const found = premises.filter(p => (p.kind === 'group_rental' || (p.kind === 'rental' && p.meetsRule))
      && p.foundOn <= day && !(p.deregisteredOn && p.deregisteredOn <= day))
    const foundIds = new Set(found.map(p => p.id))
    const registered = found.filter(p => p.kind === 'group_rental' && p.registeredOn && p.registeredOn <= day)
    const living = residents.filter(r => foundIds.has(r.premisesId) && r.movedInOn <= day && !(r.movedOutOn && r.movedOutOn <= day))
    const end = new Date('2020-06-30T00:00:00+08:00')
    const seen = hazards.filter(h => h.foundAt < end)
    const done = seen.filter(h => h.rectifiedAt && h.rectifiedAt < end)
    const m = Object.fromEntries(s.district.measures.map((x: { key: string; numerator: number; denominator: number }) => [x.key, [x.numerator, x.denominator]]))
    expect(m.group_rentals_registered).toEqual([registered.length, found.length])
    expect(m.residents_registered).toEqual([living.filter(r => r.registeredOn && r.registeredOn <= day).length, living.length])
    expect(m.hazards_rectified).toEqual([done.length, seen.length])
    expect(m.major_hazards_rectified).toEqual([done.filter(h => h.severity === 'major').length, seen.filter(h => h.severity === 'major').length])
  })

  it.each([
    ['asOf=2020-13-01', /not a real calendar date/],
    ['asOf=29-06-2020', /asOf has the wrong form/],
    ['asOf=2019-01-01', /before the campaign began/],
    ['colour=1', /unknown query parameter "colour"/],
  ])('refuses %s with 400', async (query, message) => {
    const res = await get(`/api/stats/summary?${query}`)
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(message)
  })
})

describe('reference data', () => {
  it('gives the areas of each level as GeoJSON with names in both languages', async () => {
    const levels = AreaLevelSchema.anyOf.map(l => l.const)
    expect(levels).toEqual(['district', 'town', 'community', 'grid'])
    for (const level of levels) {
      const res = await get(`/api/areas?level=${level}`)
      expect(res.statusCode).toBe(200)
      const fc = res.json()
      const [{ n }] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from admin_area where level = ${level} and valid_to is null` as unknown as [{ n: number }]
      expect(n, level).toBeGreaterThan(0)
      expect(fc.features, level).toHaveLength(n)
      for (const f of fc.features) {
        expect(f.geometry.type).toBe('MultiPolygon')
        expect(f.properties.nameZh).toBeTruthy()
        expect(f.properties.nameEn).toBeTruthy()
      }
    }
    const town = (await get('/api/areas?level=town')).json().features[0]
    const children = (await get(`/api/areas?level=community&parent=${town.id}`)).json().features
    expect(children.length).toBeGreaterThan(0)
    for (const c of children) expect(c.properties.parentId).toBe(town.id)
  })

  it('refuses an unknown area level', async () => {
    const res = await get('/api/areas?level=province')
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(/level/)
    expect((await get('/api/areas')).json().message).toMatch(/missing query parameter "level"/)
  })

  it('gives police-station areas and points of interest, filtered by kind', async () => {
    expect((await get('/api/police-stations')).json().features).toHaveLength(8)
    const campuses = (await get('/api/pois?kind=campus')).json().features
    expect(campuses.length).toBeGreaterThan(0)
    for (const f of campuses) expect(f.properties.kind).toBe('campus')
    expect((await get('/api/pois?kind=castle')).statusCode).toBe(400)
  })

  it('gives the hazard dictionary with departments, grouped by category', async () => {
    const d = (await get('/api/hazard-dictionary')).json()
    expect(d.categories.map((c: { code: string }) => c.code)).toEqual(['public_security', 'fire', 'housing', 'other'])
    expect(d.categories.reduce((a: number, c: { items: unknown[] }) => a + c.items.length, 0)).toBe(30)
    const housing5 = d.categories[2].items.find((i: { code: string }) => i.code === 'HOUSING-05')
    expect(housing5.departmentCode).toBe('urban_management')
    expect(d.departments.length).toBeGreaterThanOrEqual(9)
  })

  it('gives the campaign with phases, targets, report days and the day screens show', async () => {
    const c = (await get('/api/campaign')).json()
    expect(c).toMatchObject({ startsOn: '2019-12-15', endsOn: '2020-12-31', reportDays: [14, 29], referenceDate: '2020-12-31' })
    expect(c.phases).toHaveLength(3)
    expect(c.targets.residents_registered).toBe(0.95)
  })

  it('answers an unknown API path with 404 in the same error shape', async () => {
    const res = await get('/api/nothing-here')
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ statusCode: 404, error: 'Not Found' })
  })
})
