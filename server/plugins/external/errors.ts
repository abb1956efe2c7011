import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { databaseFailure } from '../../db/availability.js'
import { databaseTimeout, databaseUnavailable, HttpError, UnavailableError } from '../../lib/http-errors.js'

const statusNames: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 412: 'Precondition Failed', 413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type',
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
  '22001': 400, // text too long for its column
  '22003': 400, // number out of its column's range
  '22021': 400, // a character the encoding cannot hold (NUL)
  '22P05': 400, // a character JSON in the database cannot hold (\u0000)
  '22023': 400, // invalid parameter value (e.g. a geometry with a Z dimension)
  '2201W': 400, // invalid LIMIT
  '2201X': 400, // invalid OFFSET
  '54001': 400, // a value nested too deep for the database
}

/**
 * For these the database's message names internal types ("bigint", "UTF8"); ours say what is wrong.
 * They are a backstop: the input checks refuse such values before any query runs.
 */
const pgMessages: Record<string, [string, string]> = {
  '22001': ['a text is longer than its field allows', '文本超过该字段允许的长度'],
  '22003': ['a number is outside the range its field allows', '数值超出该字段允许的范围'],
  '22021': ['a text holds a character that cannot be stored (such as NUL, \\u0000)', '文本含有无法保存的字符（如 NUL 字符 \\u0000）'],
  '22P05': ['a text holds a character that cannot be stored (such as NUL, \\u0000)', '文本含有无法保存的字符（如 NUL 字符 \\u0000）'],
  '22023': ['a value is not acceptable here', '某个值在此处不可接受'],
  '2201W': ['the number of rows asked for is not acceptable', '请求的行数不可接受'],
  '2201X': ['the number of rows to skip is not acceptable', '要跳过的行数不可接受'],
  '54001': ['a value is nested too deep', '某个值嵌套过深'],
}

/** Fastify's own refusals of a request it cannot read, in our words and in Chinese. */
const fastifyMessages: Record<string, (req: FastifyRequest) => [string, string]> = {
  FST_ERR_BAD_URL: () => ['the address holds an invalid percent-encoding (a % not followed by two hex digits, or bytes that are not UTF-8)', '请求地址含有无效的百分号编码'],
  FST_ERR_MAX_PARAM_LENGTH: () => ['a part of the address is too long', '请求地址中的某一部分太长'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (req) => {
    const type = String(req.headers['content-type'] ?? '').slice(0, 100)
    return [`a body of type "${type}" is not accepted here`, `此处不接受类型为“${type}”的请求体`]
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => ['the body\'s size does not match its Content-Length header', '请求体的大小与 Content-Length 请求头不符'],
}

/**
 * The table rules (check constraints) a request can break, by name, in words a person can act on.
 * Any other check gets a general sentence naming the rule.
 */
const checkMessages: Record<string, [string, string]> = {
  premises_address_check: ['the address must be 1 to 300 characters, not only spaces', '地址须为 1～300 个字符，不能只有空格'],
  premises_check: ['registeredOn cannot be before foundOn', '登记日期不能早于发现日期'],
  premises_check1: ['deregisteredOn needs registeredOn and cannot be before it', '注销日期须有登记日期，且不能早于登记日期'],
  premises_check2: ['secondLandlordCollectedOn needs secondLandlordName', '填写二房东信息采集日期须同时填写二房东姓名'],
  key_area_name_zh_check: ['nameZh must be 1 to 100 characters, not only spaces', '中文名称须为 1～100 个字符，不能只有空格'],
  key_area_check: ['the deadline cannot be before the listing date', '整治期限不能早于挂牌日期'],
  key_area_check1: ['a listed key area needs its listing date (listedOn)', '挂牌的重点地区须填写挂牌日期'],
  key_area_cleared_on_check: ['a key area cannot be cleared before the day it was listed', '重点地区的清零日期不能早于挂牌日期'],
  report_submission_filled_by_check: ['filledBy must be 1 to 50 characters', '填表人须为 1～50 个字符'],
  report_submission_reviewed_by_check: ['reviewedBy must be 1 to 50 characters when given', '审核人如填写须为 1～50 个字符'],
  hazard_check: ['a hazard cannot be referred before it was found', '隐患的交办时间不能早于发现时间'],
  hazard_check1: ['a hazard cannot be rectified before it was found or referred', '隐患的整改时间不能早于发现或交办时间'],
  hazard_check2: ['a hazard cannot be verified before it was rectified', '隐患的验收时间不能早于整改时间'],
  hazard_check3: ['the deadline cannot be before the day the hazard was found', '整改期限不能早于隐患发现日期'],
  hazard_other_text_check: ['the description must be 1 to 500 characters', '隐患说明须为 1～500 个字符'],
  resident_check: ['movedOutOn cannot be before movedInOn', '迁出日期不能早于迁入日期'],
  resident_check1: ['registeredOn cannot be before movedInOn', '登记日期不能早于迁入日期'],
  resident_check2: ['deregisteredOn needs registeredOn and cannot be before it', '注销日期须有登记日期，且不能早于登记日期'],
  resident_name_check: ['the name must be 1 to 100 characters', '姓名须为 1～100 个字符'],
}

/** A database refusal (4xx) in English and Chinese, from its code, constraint and detail. */
function dbRefusal(err: { code: string; message: string; constraint_name?: string; detail?: string; column_name?: string; routine?: string }): [string, string | undefined] {
  const own = pgMessages[err.code]
  if (own) return own
  // A table's check constraint (PostgreSQL's ExecConstraints), not one of our triggers' own refusals.
  if (err.code === '23514' && err.routine === 'ExecConstraints') {
    const rule = err.constraint_name ?? ''
    return checkMessages[rule] ?? [`the values break a rule of the data (${rule})`, `数据不符合规则（${rule}）`]
  }
  if (err.code === '23503') {
    const m = /^Key \((.+)\)=\((.*)\) is not present in table "(.+)"\.$/.exec(err.detail ?? '')
    if (m) return [`there is no ${m[3]} with ${m[1]} "${m[2]}"`, `不存在${m[1]}为“${m[2]}”的${m[3]}记录`]
    return ['a value refers to a record that does not exist', '引用的记录不存在']
  }
  if (err.code === '22P02') {
    const value = /: "(.*)"$/.exec(err.message)?.[1]
    return value === undefined ? ['a value has the wrong form', '某个值的格式不对'] : [`"${value}" has the wrong form for its field`, `“${value}”的格式与该字段不符`]
  }
  if (err.code === '22007' || err.code === '22008') {
    const value = /"(.*)"/.exec(err.message)?.[1]
    return value === undefined
      ? ['a date or time is not valid or is out of range', '日期或时间无效或超出范围']
      : [`the date or time "${value}" is not valid or is out of range`, `日期或时间“${value}”无效或超出范围`]
  }
  if (err.code === '23502') return [`${err.column_name ?? 'a field'} must not be empty`, `${err.column_name ?? '某个字段'}不能为空`]
  return [err.message, dbMessageZh(err.message)]
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

type AnyError = FastifyError & { code?: string; reason?: string; constraint_name?: string; detail?: string; column_name?: string; routine?: string }

/** The answer to an error: client errors keep (or get) their message; server errors are logged and answered without internals. */
function answer(err: AnyError, req: FastifyRequest, reply: FastifyReply) {
  let status = err.statusCode ?? 500
  let message = err.message
  let messageZh = err instanceof HttpError ? err.zh : undefined
  if (err.validation) {
    status = 400
    message = validationMessage(err)
    messageZh = validationMessageZh(err)
  }
  else if (typeof err.code === 'string' && fastifyMessages[err.code] && status < 500) {
    [message, messageZh] = fastifyMessages[err.code]!(req)
  }
  else if (typeof err.code === 'string' && pgStatus[err.code] !== undefined && status === 500) {
    status = pgStatus[err.code]!
    ;[message, messageZh] = dbRefusal(err as AnyError & { code: string })
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
}

/**
 * For Fastify's `frameworkErrors` option: the router refuses an address it cannot decode or a path
 * part that is too long before any error handler is set; these get the same answer as the rest.
 */
export const frameworkErrors = (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => answer(err, req, reply)

/** One error shape for every route: { statusCode, error, message, messageZh?, reason? }. */
export default fp(async (app) => {
  function unavailable(reply: FastifyReply, err: UnavailableError) {
    reply.header('Retry-After', String(err.retryAfter))
    reply.status(503).send({ statusCode: 503, error: statusNames[503], message: err.message, messageZh: err.zh, reason: err.reason })
  }

  // A database that is away or too slow is 503 with Retry-After: the request was fine and may succeed when sent again.
  app.setErrorHandler((err: AnyError, req, reply) => {
    const failure = databaseFailure(err)
    if (failure && err.statusCode === undefined) {
      // Logged without the query's parameters (personal data); one line, as there may be many at once.
      req.log.warn({ err: { message: err.message, code: err.code } }, `database ${failure}`)
      app.db.availability.report(err)
      return unavailable(reply, failure === 'timeout' ? databaseTimeout() : databaseUnavailable())
    }
    if (err instanceof UnavailableError) return unavailable(reply, err)
    return answer(err, req, reply)
  })

  app.setNotFoundHandler((req, reply) => {
    const path = `${req.method} ${req.url.split('?')[0]}`
    reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `${path} does not exist`, messageZh: `${path} 不存在` })
  })
}, { name: 'errors' })
