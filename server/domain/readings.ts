import { type CoordinateSystem, toWgs84 } from './coords.js'
import { normaliseHeading, parseDay, type RowError } from './ledger.js'
import { type Granularity, readingFields, type Utility, utilities } from './readings-fields.js'
import type { Cell } from './tabular.js'
import { textProblem } from './text.js'

export { type Granularity, readingFields, type Utility } from './readings-fields.js'

/**
 * Utility readings as the utilities export them: one row per reading of a meter account (a day, an
 * hour of a day, or a month's bill), with the account's address and/or coordinates. Pure functions:
 * the import job (plugins/app/readings.ts) feeds them rows and does what needs the database.
 */

/** Units per utility, to the utility's own unit (kWh, m³). */
const units: Record<Utility, Record<string, number>> = {
  electricity: { 'kwh': 1, '度': 1, '千瓦时': 1, 'kw·h': 1, 'kw.h': 1, 'kwh度': 1, 'mwh': 1000, '兆瓦时': 1000 },
  water: { 'm3': 1, 'm³': 1, '立方米': 1, '方': 1, '吨': 1, 't': 1, 'l': 0.001, '升': 0.001 },
  gas: { 'm3': 1, 'm³': 1, '立方米': 1, '方': 1, 'nm3': 1 },
}

/**
 * The largest believable use of one account, per hour, day and month (in kWh or m³): far above any
 * dwelling, so a value beyond it is a typing or export error (a meter index in the use column, a
 * unit mix-up), not a busy group rental.
 */
export const absurdAbove: Record<Utility, Record<Granularity, number>> = {
  electricity: { h: 100, d: 1500, m: 40_000 },
  water: { h: 10, d: 60, m: 1500 },
  gas: { h: 25, d: 150, m: 4000 },
}

/** The largest meter index accepted (hundredths must fit a bigint with room to subtract). */
const maxIndex = 1e10

/** Headings that give a utility's export away, to tell a file of another utility before any row is read. */
const utilityWords: Record<Utility, RegExp> = {
  electricity: /电量|用电|电表|电费|kwh|千瓦时|峰段|谷段/i,
  water: /用水|水量|水表|水费/,
  gas: /用气|气量|燃气|气表|天然气/,
}

/** For each field, the file's column whose heading names it. */
export function suggestReadingMapping(headings: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  const normal = headings.map(h => normaliseHeading(h))
  for (const f of readingFields) {
    const names = [f.zh, f.en, f.key, ...f.aliases].map(normaliseHeading)
    const i = normal.findIndex(h => names.includes(h))
    if (i >= 0 && !Object.values(out).includes(headings[i]!)) out[f.key] = headings[i]!
  }
  return out
}

/** The utility whose export these headings look like, when it is not the one chosen; null when they fit. */
export function otherUtilityOf(utility: Utility, headings: string[]): Utility | null {
  const text = headings.join(' ')
  if (utilityWords[utility].test(text)) return null
  return utilities.find(u => u !== utility && utilityWords[u].test(text)) ?? null
}

/** What a mapping reads: which granularity, and whether use or a meter index. */
export interface ReadingLayout {
  granularity: Granularity
  index: boolean
}

/** The layout a mapping describes, or the English and Chinese reason it describes none. */
export function layoutOf(mapping: Record<string, string>): ReadingLayout | { problem: [string, string] } {
  if (!mapping.accountNo) return { problem: ['map a column to the account number (户号)', '请为户号对应一列'] }
  if (!mapping.value && !mapping.index) return { problem: ['map a column to the consumption (用量) or to the meter index (表码)', '请为用量或表码对应一列'] }
  if (mapping.value && mapping.index) return { problem: ['map either the consumption or the meter index, not both', '用量与表码只能对应其一'] }
  if (mapping.month && mapping.date) return { problem: ['map either a date (daily or hourly readings) or a month (monthly bills), not both', '日期与月份只能对应其一'] }
  if (!mapping.month && !mapping.date) return { problem: ['map a column to the date (日期) or to the month (月份)', '请为日期或月份对应一列'] }
  if (mapping.hour && !mapping.date) return { problem: ['hourly readings need the date as well as the hour', '小时读数还需对应日期'] }
  if (mapping.night && !mapping.date) return { problem: ['the night (valley) part is read per day: map the date', '谷电量按日读取，请对应日期'] }
  return { granularity: mapping.month ? 'm' : mapping.hour ? 'h' : 'd', index: !!mapping.index }
}

/** The account's facts a row carries (the first row of an account gives them; later rows must agree). */
export interface AccountFacts {
  accountNo: string
  holderName: string | null
  address: string | null
  premisesRef: string | null
  lon: number | null
  lat: number | null
}

/** One reading: the period it covers and its amount in hundredths of the unit (or the meter index). */
export interface Reading {
  line: number
  accountNo: string
  /** The day, or the first of the month for a monthly bill. */
  period: string
  hour: number | null
  value: number
  night: number | null
}

export interface ReadingContext {
  utility: Utility
  layout: ReadingLayout
  crs: CoordinateSystem
  /** First and last day readings may cover: the campaign's, and never after today. */
  from: string
  to: string
}

const cellText = (c: Cell | undefined): string => {
  if (c === null || c === undefined) return ''
  if (c instanceof Date) return c.toISOString().slice(0, 10)
  return String(c).trim()
}

/** A number as utilities write them: thousands separators, full-width digits, a trailing unit. */
function readNumber(c: Cell | undefined): number | null | 'bad' {
  if (c === null || c === undefined) return null
  if (typeof c === 'number') return Number.isFinite(c) ? c : 'bad'
  if (c instanceof Date) return 'bad'
  const s = c.normalize('NFKC').replace(/[,\s]/g, '')
  if (s === '') return null
  if (!/^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i.test(s)) return 'bad'
  const n = Number(s)
  return Number.isFinite(n) ? n : 'bad'
}

/** A month as a bill names it: 2020-03, 2020/3, 202003, 2020年3月, or any day of it. */
function parseMonth(c: Cell | undefined): string | null {
  if (c === null || c === undefined) return null
  if (!(c instanceof Date) && typeof c !== 'number') {
    const s = c.normalize('NFKC').trim()
    const m = /^(\d{4})[-/.年]?(\d{1,2})月?$/.exec(s)
    if (m) {
      const month = Number(m[2])
      return month >= 1 && month <= 12 ? `${m[1]}-${String(month).padStart(2, '0')}-01` : null
    }
  }
  const d = parseDay(c)
  return d ? `${d.day.slice(0, 8)}01` : null
}

const lastDayOf = (month: string) => new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0)).toISOString().slice(0, 10)

/**
 * Reads one row. Answers its account facts and reading, or its problems (each with the column, the
 * value and the reason in Chinese and English, as the ledger import reports them).
 */
export function readReadingRow(line: number, cells: Record<string, Cell>, mapping: Record<string, string>, ctx: ReadingContext):
  { account: AccountFacts; reading: Reading } | { errors: RowError[] } {
  const errors: RowError[] = []
  const problem = (key: string, value: unknown, zh: string, en: string) => {
    errors.push({ line, column: mapping[key] ?? key, value: cellText(value as Cell), reason: `${zh} (${en})` })
  }
  const str = (key: string, max: number): string | null => {
    const s = cellText(cells[key])
    if (!s) return null
    if (textProblem(s)) {
      problem(key, '', '含有无法保存的字符', 'holds a character that cannot be stored')
      return null
    }
    if (s.length > max) {
      problem(key, s.slice(0, 40), `超过 ${max} 个字符`, `longer than ${max} characters`)
      return null
    }
    return s
  }

  const accountNo = str('accountNo', 64)
  if (!cellText(cells.accountNo)) problem('accountNo', '', '户号为空', 'the account number is empty')
  const holderName = str('holderName', 100)
  const address = str('address', 300)
  const premisesRef = str('premisesRef', 100)

  let lon: number | null = null
  let lat: number | null = null
  const x = readNumber(cells.lon)
  const y = readNumber(cells.lat)
  if (x === 'bad' || y === 'bad' || (x === null) !== (y === null)) {
    problem(x === 'bad' || (x === null && y !== null) ? 'lon' : 'lat', x === 'bad' || (x === null && y !== null) ? cells.lon : cells.lat,
      '坐标应为十进制度的经度和纬度两个数', 'coordinates must be two numbers: longitude and latitude in decimal degrees')
  }
  else if (x !== null && y !== null) {
    if (x < 73 || x > 136 || y < 3 || y > 54) problem('lon', `${x},${y}`, '坐标不在中国境内：经纬度是否填反？', 'the point is not in China: are longitude and latitude swapped?')
    else [lon, lat] = toWgs84(x, y, ctx.crs)
  }

  // The period.
  let period: string | null = null
  let hour: number | null = null
  if (ctx.layout.granularity === 'm') {
    period = parseMonth(cells.month)
    if (!period) problem('month', cells.month, '不是月份，请写作 2020-03', 'not a month: write it as 2020-03')
    else if (lastDayOf(period) < ctx.from || period > ctx.to) {
      problem('month', cells.month, `不在专项行动期间（${ctx.from} 至 ${ctx.to}）`, `outside the campaign (${ctx.from} to ${ctx.to})`)
    }
  }
  else {
    const d = parseDay(cells.date ?? null)
    if (!d) problem('date', cells.date, '不是日期，请写作 2020-01-05', 'not a date: write it as 2020-01-05')
    else if (d.day < ctx.from || d.day > ctx.to) {
      problem('date', cells.date, `不在专项行动期间（${ctx.from} 至 ${ctx.to}）`, `outside the campaign (${ctx.from} to ${ctx.to})`)
    }
    else period = d.day
    if (ctx.layout.granularity === 'h') {
      const h = readNumber(cells.hour)
      // "08:00" and "8时" name an hour too.
      const t = typeof cells.hour === 'string' ? /^(\d{1,2})(?::00(?::00)?|时|点)?$/.exec(cells.hour.normalize('NFKC').trim()) : null
      const value = t ? Number(t[1]) : h
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 23) problem('hour', cells.hour, '小时应为 0～23 的整数', 'the hour must be a whole number from 0 to 23')
      else hour = value
    }
  }

  // The unit, then the amounts in hundredths of it.
  let factor = 1
  const unitText = cellText(cells.unit).normalize('NFKC').toLowerCase().replace(/\s/g, '')
  if (unitText) {
    const f = units[ctx.utility][unitText]
    if (f === undefined) {
      const owner = utilities.find(u => units[u][unitText] !== undefined)
      if (owner) problem('unit', cells.unit, `这是${owner === 'electricity' ? '电' : owner === 'water' ? '水' : '燃气'}的计量单位：是否选错了文件？`, `a unit of ${owner}, not of ${ctx.utility}: is this another utility's file?`)
      else problem('unit', cells.unit, '不认识的计量单位', 'an unknown unit')
    }
    else factor = f
  }
  const key = ctx.layout.index ? 'index' : 'value'
  const raw = readNumber(cells[key])
  let value: number | null = null
  if (raw === null) problem(key, '', ctx.layout.index ? '表码为空' : '用量为空', ctx.layout.index ? 'the meter index is empty' : 'the consumption is empty')
  else if (raw === 'bad') problem(key, cells[key], '不是数字', 'not a number')
  else if (raw < 0) problem(key, cells[key], '不能为负数', 'cannot be negative')
  else if (ctx.layout.index ? raw * factor > maxIndex : raw * factor > absurdAbove[ctx.utility][ctx.layout.granularity]) {
    problem(key, cells[key], ctx.layout.index ? '表码大得不可信' : `用量大得不可信（每${ctx.layout.granularity === 'h' ? '小时' : ctx.layout.granularity === 'd' ? '日' : '月'}超过 ${absurdAbove[ctx.utility][ctx.layout.granularity]}）`,
      ctx.layout.index ? 'an unbelievably large meter index' : `an unbelievable amount (over ${absurdAbove[ctx.utility][ctx.layout.granularity]} per ${ctx.layout.granularity === 'h' ? 'hour' : ctx.layout.granularity === 'd' ? 'day' : 'month'})`)
  }
  else value = Math.round(raw * factor * 100)

  let night: number | null = null
  if (mapping.night) {
    const n = readNumber(cells.night)
    if (n === 'bad') problem('night', cells.night, '不是数字', 'not a number')
    else if (n !== null && n < 0) problem('night', cells.night, '不能为负数', 'cannot be negative')
    else if (n !== null) {
      night = Math.round(n * factor * 100)
      if (ctx.layout.index) problem('night', cells.night, '按表码导入时不能同时给谷电量', 'a night part cannot come with a meter index')
      else if (value !== null && night > value) problem('night', cells.night, '谷电量大于当日用量', 'the night part is more than the day\'s use')
    }
  }

  if (errors.length || !accountNo || !period || value === null) return { errors }
  return {
    account: { accountNo, holderName, address, premisesRef, lon, lat },
    reading: { line, accountNo, period, hour, value, night },
  }
}

/** Whether two rows give an account different facts (a later row may leave a column empty). */
export function accountFactsDiffer(a: AccountFacts, b: AccountFacts): keyof AccountFacts | null {
  for (const k of ['holderName', 'address', 'premisesRef'] as const) if (b[k] !== null && a[k] !== null && a[k] !== b[k]) return k
  if (b.lon !== null && a.lon !== null && (Math.abs(a.lon - b.lon) > 1e-7 || Math.abs(a.lat! - b.lat!) > 1e-7)) return 'lon'
  return null
}
