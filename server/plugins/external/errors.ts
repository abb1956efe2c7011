import type { FastifyError, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { databaseFailure } from '../../db/availability.js'
import { databaseTimeout, databaseUnavailable, HttpError, UnavailableError } from '../../http-errors.js'

const statusNames: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 412: 'Precondition Failed', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Entity', 423: 'Locked', 428: 'Precondition Required', 429: 'Too Many Requests', 500: 'Internal Server Error',
  503: 'Service Unavailable',
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

const whereZh: Record<string, string> = { querystring: '查询参数', body: '请求字段', params: '路径参数', headers: '请求头' }

/** The same, for the Chinese screen: which input, and what is wrong with it. */
function validationMessageZh(err: FastifyError): string {
  const first = err.validation?.[0]
  const context = whereZh[err.validationContext ?? ''] ?? '输入'
  if (!first) return `${context}有误`
  const params = first.params as Record<string, unknown>
  if (first.keyword === 'additionalProperties') return `未知的${context}“${String(params.additionalProperty)}”`
  if (first.keyword === 'required') return `缺少${context}“${String(params.missingProperty)}”`
  const name = first.instancePath.replace(/^\//, '').replaceAll('/', '.')
  const rule: Record<string, () => string> = {
    minimum: () => `不能小于 ${String(params.limit)}`,
    maximum: () => `不能大于 ${String(params.limit)}`,
    exclusiveMinimum: () => `须大于 ${String(params.limit)}`,
    exclusiveMaximum: () => `须小于 ${String(params.limit)}`,
    minLength: () => `至少 ${String(params.limit)} 个字符`,
    maxLength: () => `至多 ${String(params.limit)} 个字符`,
    minItems: () => `至少 ${String(params.limit)} 项`,
    maxItems: () => `至多 ${String(params.limit)} 项`,
    type: () => `类型应为 ${String(params.type)}`,
    pattern: () => '格式不对',
    format: () => `格式不对（应为 ${String(params.format)}）`,
    enum: () => '不是可选的值',
    anyOf: () => '不是可选的值',
    const: () => '不是可选的值',
  }
  return `${context} ${name} ${rule[first.keyword]?.() ?? '有误'}`.replace(/\s+/g, ' ').trim()
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

/** Our own triggers' refusals, in Chinese. */
const dbMessagesZh: [RegExp, string][] = [
  [/^the location \((.*), (.*)\) is outside every town or street of the district.*$/s, '位置（$1, $2）不在本区任何镇（街道）内'],
  [/^hazard item (\S+) needs a description of the hazard.*$/s, '隐患字典项 $1 须填写隐患说明'],
  [/^hazard item (\S+) takes no free text.*$/s, '隐患字典项 $1 不填说明；描述其他隐患请选择“其他”项'],
  [/^a submitted table cannot be changed.*$/s, '已上报的报表不能修改'],
  [/^duplicate key value.*$/s, '与已有记录重复'],
]
const dbMessageZh = (message: string) => {
  const hit = dbMessagesZh.find(([re]) => re.test(message))
  return hit ? message.replace(hit[0], hit[1]) : undefined
}

/**
 * One error shape for every route: { statusCode, error, message }. Client errors keep their
 * message; server errors are logged and answered without internals. A database that is away or
 * too slow is 503 with Retry-After: the request was fine and may succeed when sent again.
 */
export default fp(async (app) => {
  function unavailable(reply: FastifyReply, err: UnavailableError) {
    reply.header('Retry-After', String(err.retryAfter))
    reply.status(503).send({ statusCode: 503, error: statusNames[503], message: err.message, messageZh: err.zh, reason: err.reason })
  }

  app.setErrorHandler((err: FastifyError & { code?: string; reason?: string }, req, reply) => {
    const failure = databaseFailure(err)
    if (failure && err.statusCode === undefined) {
      // Logged without the query's parameters (personal data); one line, as there may be many at once.
      req.log.warn({ err: { message: err.message, code: err.code } }, `database ${failure}`)
      app.db.availability.report(err)
      return unavailable(reply, failure === 'timeout' ? databaseTimeout() : databaseUnavailable())
    }
    if (err instanceof UnavailableError) return unavailable(reply, err)
    let status = err.statusCode ?? 500
    let message = err.message
    let messageZh = err instanceof HttpError ? err.zh : undefined
    if (err.validation) {
      status = 400
      message = validationMessage(err)
      messageZh = validationMessageZh(err)
    }
    else if (typeof err.code === 'string' && pgStatus[err.code] !== undefined && status === 500) {
      status = pgStatus[err.code]!
      message = err.message
      messageZh = dbMessageZh(err.message)
    }
    if (status >= 500) {
      // Only message, code and stack: database errors carry the query's parameters, which may be personal data.
      req.log.error({ err: { message: err.message, code: err.code, stack: err.stack } }, 'request failed')
      message = 'Something went wrong on the server; the request was not carried out. Please try again.'
      messageZh = '服务器出错，请求未执行，请稍后重试。'
    }
    else if (status === 413) messageZh = '上传的内容太大。'
    const body: Record<string, unknown> = { statusCode: status, error: statusNames[status] ?? 'Error', message }
    if (messageZh) body.messageZh = messageZh
    if (err instanceof HttpError && err.reason) body.reason = err.reason
    reply.status(status).send(body)
  })

  app.setNotFoundHandler((req, reply) => {
    const path = `${req.method} ${req.url.split('?')[0]}`
    reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `${path} does not exist`, messageZh: `${path} 不存在` })
  })
}, { name: 'errors' })
