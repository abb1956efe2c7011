import { maxId } from '../schemas/common.js'

/**
 * An error whose status and message reach the client as they are (4xx). The message is English (for
 * programs, logs and the English screen); `zh` is the same sentence for the Chinese screen, which the
 * client shows when it has one (answers carry it as `messageZh`).
 */
export class HttpError extends Error {
  /**
   * @param statusCode the HTTP status of the answer
   * @param message the sentence for people, in English
   * @param reason a stable machine-readable word for clients (e.g. 'session-expired'), besides the
   * sentence for people
   * @param zh the same sentence in Chinese
   */
  constructor(public readonly statusCode: number, message: string, public readonly reason?: string, public readonly zh?: string) {
    super(message)
  }
}

/**
 * The service cannot answer now but will again (503): the client should try again after
 * `retryAfter` seconds, which the answer's Retry-After header says.
 */
export class UnavailableError extends HttpError {
  constructor(public readonly retryAfter: number, message: string, reason: string, zh: string) {
    super(503, message, reason, zh)
  }
}

/** The database cannot be reached (stopped, restarting, full): usually back within seconds. */
export const databaseUnavailable = () => new UnavailableError(2,
  'The database is not available right now. Please try again in a few seconds.',
  'database-unavailable', '数据库暂时不可用，请几秒后重试。')

/**
 * A statement ran past its time limit (a busy server, or a lock held by a long job such as an
 * import). Nothing was changed (the transaction is rolled back); trying again later may succeed.
 */
export const databaseTimeout = () => new UnavailableError(5,
  'The database took too long to answer (it may be busy, for example with an import); nothing was changed. Please try again shortly.',
  'database-timeout', '数据库响应超时（可能正忙，例如正在导入），未修改任何数据，请稍后重试。')

export const badRequest = (message: string, zh?: string) => new HttpError(400, message, undefined, zh)
export const notFound = (message: string, zh?: string) => new HttpError(404, message, undefined, zh)
export const conflict = (message: string, zh?: string) => new HttpError(409, message, undefined, zh)

/** Parses a YYYY-MM-DD date that the schema has shape-checked; refuses days that do not exist. */
export function parseDate(value: string, name: string): string {
  const d = new Date(`${value}T00:00:00Z`)
  // The calendar has no year 0 (1 BC is followed by AD 1), and PostgreSQL refuses it.
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value || value.startsWith('0000')) {
    throw badRequest(`${name} "${value}" is not a real calendar date (YYYY-MM-DD)`, `${name}“${value}”不是有效日期（应为 年-月-日）`)
  }
  return value
}

/** Parses "minLon,minLat,maxLon,maxLat" and checks that it is a box on the earth. */
export function parseBbox(value: string): [number, number, number, number] {
  const parts = value.split(',').map(s => Number(s.trim()))
  const [x0, y0, x1, y1] = parts as [number, number, number, number]
  if (parts.length !== 4 || parts.some(n => !Number.isFinite(n))) throw badRequest('bbox must be four numbers: minLon,minLat,maxLon,maxLat', '范围（bbox）应为四个数：最小经度,最小纬度,最大经度,最大纬度')
  if (x0 < -180 || x1 > 180 || y0 < -90 || y1 > 90) throw badRequest('bbox must lie within -180..180 longitude and -90..90 latitude', '范围（bbox）须在经度 -180～180、纬度 -90～90 之内')
  if (x0 > x1 || y0 > y1) throw badRequest('bbox minimum must not exceed its maximum (minLon,minLat,maxLon,maxLat)', '范围（bbox）的最小值不能大于最大值')
  return [x0, y0, x1, y1]
}

/** The most ids one list may name: more than any district has towns, communities or stations. */
const maxIdsInList = 1000

/** Parses "3,5,8" (digits shape-checked by the schema); refuses ids beyond any table and overlong lists. */
export function parseIdList(value: string | undefined, name: string): number[] | undefined {
  if (value === undefined) return undefined
  const ids = value.split(',').map(Number)
  if (ids.length > maxIdsInList) throw badRequest(`${name} names ${ids.length} ids; at most ${maxIdsInList} are accepted`, `${name} 列出了 ${ids.length} 个编号，最多接受 ${maxIdsInList} 个`)
  const bad = ids.find(id => id < 1 || id > maxId)
  if (bad !== undefined) throw badRequest(`${name} has the id ${bad}, outside 1 to ${maxId}`, `${name} 中的编号 ${bad} 不在 1～${maxId} 之间`)
  return ids
}
