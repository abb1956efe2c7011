import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { wholeDistrict } from '../../server/domain/access.js'
import { figuresCache } from '../../server/plugins/app/figures-cache.js'
import { boxPointsCache } from '../../server/plugins/app/box-points.js'
import { premisesRepository } from '../../server/plugins/app/premises.js'
import { statementsDuring } from '../helpers/statements.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * GET /api/premises on real PostgreSQL: the collection streamed as its rows come, piece by piece
 * (gzipped here when asked), parsing to the same collection as the whole text built in one query.
 */
let t: TestApp
let cookie = ''
const bbox: [number, number, number, number] = [119.95, 31.82, 120.01, 31.88]
/** The day statuses are judged on, given to the route and the repository alike. */
const day = '2020-06-29'

beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'leader')
})
afterAll(() => t.close())

/** The pieces of a streamed collection in small pieces, so that it comes in many. */
async function pieces(filter: { bbox?: typeof bbox }, limit: number, batch: number): Promise<string[]> {
  const repo = premisesRepository(t.db.sql, { streaming: true, pointsBatch: batch })
  const answer = await repo.pointsAnswer(wholeDistrict, filter, day, limit)
  if (typeof answer === 'string') throw new Error('a streaming repository answered whole text')
  const out: string[] = []
  for await (const p of answer) out.push(p)
  return out
}

describe('the premises collection streamed', () => {
  it.each([
    ['the whole district', {}, 100_000],
    ['a bbox', { bbox }, 100_000],
    ['a limit below the matches', {}, 250],
    ['a limit of exactly the matches', {}, 600],
  ] as const)('parses to the same collection as the whole text for %s, read in batches of 7 rows', async (_, filter, limit) => {
    const streamed = await pieces(filter, limit, 7)
    expect(streamed.length).toBeGreaterThan(2)
    const whole = JSON.parse(await premisesRepository(t.db.sql).pointsJson(wholeDistrict, filter, day, limit))
    expect(whole.features.length).toBeGreaterThan(0)
    expect(JSON.parse(streamed.join(''))).toEqual(whole)
  })

  it('says the answer was truncated at the limit', async () => {
    const fc = JSON.parse((await pieces({}, 250, 100)).join(''))
    expect(fc.features).toHaveLength(250)
    expect(fc.numberReturned).toBe(250)
    expect(fc.truncated).toBe(true)
  })

  it('answers an empty bbox with an empty collection', async () => {
    expect(JSON.parse((await pieces({ bbox: [0, 0, 0.001, 0.001] }, 100, 7)).join(''))).toEqual({ type: 'FeatureCollection', features: [], numberReturned: 0, truncated: false })
  })

  it('streams the route\'s answer (no length known in advance), gzipped when asked, to the same collection', async () => {
    const url = `/api/premises?bbox=${bbox.join(',')}&asOf=${day}&limit=100000`
    const whole = JSON.parse(await premisesRepository(t.db.sql).pointsJson(wholeDistrict, { bbox }, day, 100_000))
    const plain = await t.app.inject({ url, headers: { cookie } })
    expect(plain.statusCode, plain.body).toBe(200)
    expect(plain.headers['content-type']).toMatch(/application\/geo\+json/)
    expect(plain.headers['content-length']).toBeUndefined()
    expect(plain.json()).toEqual(whole)
    // Another limit, another key: not the text the first answer kept.
    const zipped = await t.app.inject({ url: url.replace('limit=100000', 'limit=99999'), headers: { cookie, 'accept-encoding': 'gzip' } })
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.headers.vary).toMatch(/accept-encoding/i)
    expect(zipped.headers['content-length']).toBeUndefined()
    expect(JSON.parse(gunzipSync(zipped.rawPayload).toString())).toEqual(whole)
  })

  it('answers a collection read once more from what the first streamed answer kept, the same', async () => {
    const url = '/api/premises?limit=300'
    const first = await t.app.inject({ url, headers: { cookie } })
    const second = await t.app.inject({ url, headers: { cookie } })
    expect(first.headers['content-length']).toBeUndefined()
    expect(second.headers['content-length']).toBeDefined()
    expect(second.json()).toEqual(first.json())
  })
})

// Kept whole under the data version, or as a box's rows under the box's version (box-points.ts).
describe.each([
  ['kept whole', () => premisesRepository(t.db.sql, { streaming: true, pointsBatch: 50, pointsCache: figuresCache(t.app.versions, 16, 'data') })],
  ['kept as a box\'s rows', () => premisesRepository(t.db.sql, {
    streaming: true, pointsBatch: 50, boxVersion: box => t.app.versions.boxVersion(box),
    boxPoints: { cache: boxPointsCache(), changedSince: (box, version) => t.app.versions.boxChangedSince(box, version) },
  })],
] as const)('a collection being streamed, %s', (_, cached) => {
  /** One read of the collection: its first piece's statement once, and at most once the rest after it. */
  const expectOneRead = (sent: string[]) => {
    const reads = sent.filter(q => q.includes('json_build_object'))
    const rest = reads.filter(q => /p\.id > \$\d+ order by p\.id/.test(q))
    expect(reads.length - rest.length, reads.join('\n')).toBe(1)
    expect(rest.length).toBeLessThanOrEqual(1)
  }
  it('is the same collection whether the limit cuts it in its first piece, at its end or further on', async () => {
    const whole = premisesRepository(t.db.sql)
    for (const limit of [49, 50, 51, 120, 100_000]) {
      const answer = await cached().pointsAnswer(wholeDistrict, { bbox }, day, limit)
      expect(typeof answer).not.toBe('string')
      const streamed = JSON.parse(await read(answer))
      expect(streamed, `limit ${limit}`).toEqual(JSON.parse(await whole.pointsJson(wholeDistrict, { bbox }, day, limit)))
      expect(streamed.truncated, `limit ${limit}`).toBe(limit < 100_000)
    }
  })
  const read = async (answer: string | AsyncGenerator<string>) => {
    if (typeof answer === 'string') return answer
    let text = ''
    for await (const p of answer) text += p
    return text
  }

  it('is read once for requests that come while it is read: they are given its whole text', async () => {
    const repo = cached()
    let texts: string[] = []
    const sent = await statementsDuring(t.db.sql, async () => {
      const first = await repo.pointsAnswer(wholeDistrict, { bbox }, day, 100_000)
      expect(typeof first).not.toBe('string')
      const others = [repo.pointsAnswer(wholeDistrict, { bbox }, day, 100_000), repo.pointsAnswer(wholeDistrict, { bbox }, day, 100_000)]
      texts = [await read(first), ...await Promise.all(others.map(async a => read(await a)))]
    })
    expectOneRead(sent)
    expect(texts[1]).toBe(texts[0])
    expect(texts[2]).toBe(texts[0])
    expect(JSON.parse(texts[0]!).features.length).toBeGreaterThan(50)
  })

  it('is read to its end whatever its first reader does: those waiting get it before that reader reads on', async () => {
    const repo = cached()
    let waited = ''
    const sent = await statementsDuring(t.db.sql, async () => {
      const first = await repo.pointsAnswer(wholeDistrict, { bbox }, day, 99_998)
      if (typeof first === 'string') throw new Error('not streamed')
      await first.next()
      // The first reader takes nothing more; the one waiting is given the whole text all the same.
      const waiting = repo.pointsAnswer(wholeDistrict, { bbox }, day, 99_998)
      const late = new Promise<string>((_, reject) => setTimeout(() => reject(new Error('still waiting for the first reader')), 5_000))
      waited = await Promise.race([waiting.then(read), late])
      await first.return(undefined)
    })
    expectOneRead(sent)
    const whole = await premisesRepository(t.db.sql).pointsJson(wholeDistrict, { bbox }, day, 99_998)
    expect(JSON.parse(waited)).toEqual(JSON.parse(whole))
  })

  it('that its reader stopped is kept all the same: the request waiting and the next are given it from the one read', async () => {
    const repo = cached()
    let texts: string[] = []
    const sent = await statementsDuring(t.db.sql, async () => {
      const first = await repo.pointsAnswer(wholeDistrict, { bbox }, day, 99_999)
      if (typeof first === 'string') throw new Error('not streamed')
      const waiting = repo.pointsAnswer(wholeDistrict, { bbox }, day, 99_999)
      await first.next()
      await first.return(undefined)
      texts = [await read(await waiting), await read(await repo.pointsAnswer(wholeDistrict, { bbox }, day, 99_999))]
    })
    expectOneRead(sent)
    const whole = await premisesRepository(t.db.sql).pointsJson(wholeDistrict, { bbox }, day, 99_999)
    expect(JSON.parse(texts[0]!)).toEqual(JSON.parse(whole))
    expect(texts[1]).toBe(texts[0])
  })
})
