import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HttpError } from '../../../lib/http-errors.js'
import { keyAreaViewer } from '../../../plugins/app/key-areas-scope.js'
import { holdsResidentId, parseSearchText, searchable, searchMinChars } from '../../../domain/search.js'
import { errors } from '../../../schemas/common.js'
import { SearchAnswerSchema, SearchBodySchema, SearchQuerySchema } from '../../../schemas/search.js'

const personKinds = new Set(['owner', 'second_landlord', 'resident'])

/**
 * The search box in the header. GET for places; POST for the same and a document number, which
 * must never appear in a URL (logs, browser history): a resident ID in a GET is refused.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['search'],
      summary: 'Premises (address, ledger ref), communities and key areas, and for roles that see people owners, second landlords and residents (name, phone), ranked, within your jurisdiction',
      querystring: SearchQuerySchema,
      response: { 200: SearchAnswerSchema, ...errors(400, 401, 403) },
    },
  }, async (req) => {
    if (holdsResidentId(req.query.q)) {
      throw new HttpError(400, 'An ID number must not be sent in a web address: search for it with POST /api/search', 'id-number-in-url',
        '证件号码不能放在网址中，请用 POST /api/search 查询')
    }
    return search(app, req, req.query.q, req.query.limit, false)
  })

  // POST, so that an ID number searched for never appears in a URL, a log line or browser history.
  app.post('/', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['search'],
      summary: 'The same search, the text in the body; for roles that see people it also finds residents by their exact ID number',
      body: SearchBodySchema,
      response: { 200: SearchAnswerSchema, ...errors(400, 401, 403) },
    },
  }, async req => search(app, req, req.body.q, req.body.limit, true))
}

/** Runs a search for the signed-in user; a search that found people is audited as one. */
async function search(app: FastifyInstance, req: FastifyRequest, q: string, limit: number, idNumber: boolean) {
  const user = app.userOf(req)
  const text = parseSearchText(q)
  if (!searchable(text)) {
    throw new HttpError(400, `Type at least ${searchMinChars} characters together to search`, 'search-too-short', `请至少连续输入 ${searchMinChars} 个字再搜索`)
  }
  const viewer = keyAreaViewer(user)
  const answer = await app.lookup.search(viewer, text, limit, { idNumber })
  const people = answer.results.filter(r => personKinds.has(r.kind))
  const byIdNumber = viewer.people && idNumber && text.idNumber !== null
  if (people.length || byIdNumber) {
    // Who looked up whom; the text itself is left out (a name or an ID number: administrators read the trail).
    await app.audit.record(app.db.sql, req, {
      action: 'people.search', entity: 'resident',
      after: {
        residents: people.filter(r => r.kind === 'resident').map(r => r.id),
        landlordsOf: people.filter(r => r.kind !== 'resident').map(r => r.id),
        byIdNumber,
      },
    })
  }
  return answer
}

export default routes
