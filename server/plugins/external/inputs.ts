import { isUtf8 } from 'node:buffer'
import { Readable } from 'node:stream'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { textProblem } from '../../domain/text.js'
import { HttpError } from '../../lib/http-errors.js'

/**
 * What every request must be before any route sees it, checked once here instead of route by route:
 * a JSON body is valid UTF-8 and at most {@link maxJsonDepth} levels deep (refused before it is
 * parsed), no text anywhere (body, query, path, headers) holds a NUL character or a lone
 * surrogate (see domain/text.ts), and every number is finite.
 */

/** Deeper than any body of this API (a GeoJSON MultiPolygon in a Feature is 6 levels). */
export const maxJsonDepth = 32

/** Whether JSON text nests objects and arrays deeper than `max`, found by counting brackets outside strings. */
export function jsonDeeperThan(buf: Uint8Array, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]
    if (inString) {
      if (b === 0x5C) i++
      else if (b === 0x22) inString = false
    }
    else if (b === 0x22) inString = true
    else if (b === 0x7B || b === 0x5B) {
      if (++depth > max) return true
    }
    else if (b === 0x7D || b === 0x5D) depth--
  }
  return false
}

interface BadText { path: string; problem: 'nul' | 'surrogate'; inKey: boolean }

/** The first string (value or key) of a parsed value that cannot be taken, with where it is. */
export function findBadText(value: unknown, path = ''): BadText | null {
  if (typeof value === 'string') {
    const problem = textProblem(value)
    return problem ? { path, problem, inKey: false } : null
  }
  // A file streamed to disk (a readings import) is read and checked row by row by its importer.
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || value instanceof Readable) return null
  for (const [k, v] of Object.entries(value)) {
    const at = path ? `${path}.${k}` : k
    const keyProblem = textProblem(k)
    if (keyProblem) return { path: path || '(top level)', problem: keyProblem, inKey: true }
    const found = findBadText(v, at)
    if (found) return found
  }
  return null
}

/**
 * The first number of a validated value that is not finite, with where it is. The schema
 * validator turns "1e400" into Infinity when it coerces a text to a number, and then skips the
 * number's range: such a value would pass every bound.
 */
export function findNonFinite(value: unknown, path = ''): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || value instanceof Readable) return null
  for (const [k, v] of Object.entries(value)) {
    const found = findNonFinite(v, path ? `${path}.${k}` : k)
    if (found !== null) return found
  }
  return null
}

const where: Record<string, [string, string]> = {
  body: ['body field', '请求字段'], querystring: ['query parameter', '查询参数'], params: ['path parameter', '路径参数'], headers: ['header', '请求头'],
}

function refuse(context: keyof typeof where, bad: BadText): HttpError {
  const [en, zh] = where[context]!
  const name = bad.path.replace(/[^\x20-\x7E\u4E00-\u9FFF]/g, '?')
  const subject = bad.inKey ? `a key in ${en} ${name}` : `${en} ${name}`
  const subjectZh = bad.inKey ? `${zh} ${name} 的某个键名` : `${zh} ${name}`
  return bad.problem === 'nul'
    ? new HttpError(400, `${subject} contains a NUL character (\\u0000), which cannot be stored; remove it`, 'nul-character', `${subjectZh}含有 NUL 字符（\\u0000），无法保存，请删除`)
    : new HttpError(400, `${subject} is not valid Unicode text (it holds half of a surrogate pair)`, 'invalid-unicode', `${subjectZh}不是有效的 Unicode 文本（含有不成对的代理字符）`)
}

/** The header values that reached us; repeated headers arrive as arrays. */
const headerValues = (req: FastifyRequest) => Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? '']))

export default fp(async (app) => {
  const jsonParser = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const buf = body as Buffer
    if (!isUtf8(buf)) {
      done(new HttpError(400, 'the request body is not valid UTF-8 text; send JSON encoded as UTF-8', 'invalid-utf8', '请求体不是有效的 UTF-8 文本，请以 UTF-8 编码发送 JSON'), undefined)
      return
    }
    if (jsonDeeperThan(buf, maxJsonDepth)) {
      done(new HttpError(400, `the JSON body is nested more than ${maxJsonDepth} levels deep`, 'json-too-deep', `JSON 请求体嵌套超过 ${maxJsonDepth} 层`), undefined)
      return
    }
    jsonParser(req, buf.toString('utf8'), (err, parsed) => {
      if (!err) done(null, parsed)
      else if (buf.length === 0) done(new HttpError(400, 'the request body is empty; send a JSON value', 'invalid-json', '请求体为空，请发送 JSON'), undefined)
      else done(new HttpError(400, 'the request body is not valid JSON', 'invalid-json', '请求体不是有效的 JSON'), undefined)
    })
  })

  // Before the access checks, so that no refused text reaches a session lookup or the audit trail.
  app.addHook('onRequest', async (req) => {
    const checks: [keyof typeof where, unknown][] = [['params', req.params], ['querystring', req.query], ['headers', headerValues(req)]]
    for (const [context, value] of checks) {
      const bad = findBadText(value)
      if (bad) throw refuse(context, bad)
    }
  })

  app.addHook('preValidation', async (req) => {
    const bad = findBadText(req.body)
    if (bad) throw refuse('body', bad)
  })

  app.addHook('preHandler', async (req) => {
    const parts: [keyof typeof where, unknown][] = [['params', req.params], ['querystring', req.query], ['body', req.body]]
    for (const [context, value] of parts) {
      const path = findNonFinite(value)
      if (path === null) continue
      const [en, zh] = where[context]!
      throw new HttpError(400, `${en} ${path} must be a finite number`, 'not-finite', `${zh} ${path} 须为有限的数值`)
    }
  })
}, { name: 'inputs' })
