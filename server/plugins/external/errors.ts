import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { HttpError } from '../../http-errors.js'

const statusNames: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 412: 'Precondition Failed', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Entity', 423: 'Locked', 428: 'Precondition Required', 429: 'Too Many Requests', 500: 'Internal Server Error',
}

const where: Record<string, string> = { querystring: 'query parameter', body: 'body field', params: 'path parameter', headers: 'header' }

/** "query parameter limit must be <= 100000" instead of ajv's "querystring/limit must be <= 100000". */
function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0]
  if (!first) return err.message
  const context = where[err.validationContext ?? ''] ?? err.validationContext ?? 'input'
  const params = first.params as Record<string, unknown>
  if (first.keyword === 'additionalProperties') return `unknown ${context} "${String(params.additionalProperty)}"`
  if (first.keyword === 'required') return `missing ${context} "${String(params.missingProperty)}"`
  const name = first.instancePath.replace(/^\//, '').replaceAll('/', '.')
  if (first.keyword === 'pattern') {
    const schema = (first as { parentSchema?: { description?: string } }).parentSchema
    return `${context} ${name} has the wrong form${schema?.description ? `: expected ${schema.description}` : ''}`
  }
  return `${context} ${name || ''} ${first.message ?? 'is invalid'}`.replace(/\s+/g, ' ').trim()
}

/** Database refusals that a user caused, with the status they deserve. */
const pgStatus: Record<string, number> = {
  '23514': 400, // check violation (and our triggers' explicit refusals)
  '23502': 400, // not null
  '23503': 400, // foreign key
  '23505': 409, // unique
  '22P02': 400, // invalid text representation
  '22007': 400, // invalid date
  '22008': 400, // date out of range
}

/**
 * One error shape for every route: { statusCode, error, message }. Client errors keep their
 * message; server errors are logged and answered without internals.
 */
export default fp(async (app) => {
  app.setErrorHandler((err: FastifyError & { code?: string; reason?: string }, req, reply) => {
    let status = err.statusCode ?? 500
    let message = err.message
    if (err.validation) {
      status = 400
      message = validationMessage(err)
    }
    else if (typeof err.code === 'string' && pgStatus[err.code] !== undefined && status === 500) {
      status = pgStatus[err.code]!
      message = err.message
    }
    if (status >= 500) {
      // Only message, code and stack: database errors carry the query's parameters, which may be personal data.
      req.log.error({ err: { message: err.message, code: err.code, stack: err.stack } }, 'request failed')
      message = 'Something went wrong on the server; the request was not carried out. Please try again.'
    }
    const body: Record<string, unknown> = { statusCode: status, error: statusNames[status] ?? 'Error', message }
    if (err instanceof HttpError && err.reason) body.reason = err.reason
    reply.status(status).send(body)
  })

  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `${req.method} ${req.url.split('?')[0]} does not exist` })
  })
}, { name: 'errors' })
