import fc from 'fast-check'
import { afterAll, describe, it } from 'vitest'
import { fuzzRuns, openFuzz, requestsFor, tryRequest } from '../helpers/fuzz.js'

// Built before the tests are collected: there is one test per route of the application's own table.
const f = await openFuzz()
afterAll(() => f.close())

const routes = f.t.app.routeTable.filter(r => !['GET', 'HEAD'].includes(r.method))

describe('every write route, fuzzed from its schema (path, query, body, headers)', () => {
  for (const route of routes) {
    it(`${route.method} ${route.url} answers bad input without a 5xx and writes nothing when it refuses`, async () => {
      await fc.assert(fc.asyncProperty(requestsFor(route, f.context, f.cookieFor(route)), async (r) => {
        const { status, problem } = await tryRequest(f.t.app, f.writes, r)
        // An accepted write may have changed the signed-in users or ended their sessions.
        if (status < 400) await f.restore()
        if (problem) throw new Error(problem)
      }), { numRuns: fuzzRuns(20), endOnFailure: true })
    })
  }
})
