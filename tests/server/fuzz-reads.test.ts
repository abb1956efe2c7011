import fc from 'fast-check'
import { afterAll, describe, it } from 'vitest'
import { fuzzRuns, openFuzz, requestsFor, tryRequest } from '../helpers/fuzz.js'

// Built before the tests are collected: there is one test per route of the application's own table.
const f = await openFuzz()
afterAll(() => f.close())

// HEAD answers with the GET route's handler and schema, which are fuzzed as GET.
const routes = f.t.app.routeTable.filter(r => r.method === 'GET')

/** The live stream never ends on its own: it is fuzzed asking for its opening only (once=true), the rest of the request as generated. */
const ending = (url: string, path: string) => {
  if (path !== '/api/notices/stream') return url
  const u = new URL(url, 'http://x')
  u.searchParams.set('once', 'true')
  return `${u.pathname}${u.search}`
}

describe('every GET route, fuzzed from its schema (path, query, headers)', () => {
  for (const route of routes) {
    it(`${route.method} ${route.url} answers bad input without a 5xx and writes nothing when it refuses`, async () => {
      await fc.assert(fc.asyncProperty(requestsFor(route, f.context, f.cookieFor(route)), async (r) => {
        const { problem } = await tryRequest(f.t.app, f.writes, { ...r, url: ending(r.url, route.url) })
        if (problem) throw new Error(problem)
      }), { numRuns: fuzzRuns(12), endOnFailure: true })
    })
  }
})
