import { type CoordinateSystem, toWgs84 } from './coords.js'
import { maskIdNumber, normaliseIdNumber, residentIdProblem } from './id-number.js'
import { enforcementKindZh, flagCategoryZh } from './enforcement.js'
import { type EnforcementKind, enforcementKinds, type FlagCategory, flagCategories } from './lists.js'
import { type LedgerField, ledgerFields, type LedgerKind } from './ledger-fields.js'
import type { Cell } from './tabular.js'
import { textProblem } from './text.js'
import { localDay, localMinute } from './calendar.js'

/**
 * The paper ledgers as import templates: the columns of each kind, how a cell is read, and the
 * checks a row must pass. Pure functions: the import job (plugins/app/imports.ts) feeds them rows
 * and looks up what needs the database (premises references, what already exists).
 */

export { ledgerFields, type LedgerKind } from './ledger-fields.js'

export const premisesKindLabels: Record<string, string> = {
  群租房: 'group_rental', 出租房屋: 'rental', 出租房: 'rental', 民宿: 'homestay', 家庭旅馆: 'family_hotel', 厂企集中宿舍: 'factory_dormitory',
  集中宿舍: 'factory_dormitory', 养老院: 'care_home', 敬老院: 'care_home', 福利院: 'care_home', '养老院（敬老院、福利院）': 'care_home',
  group_rental: 'group_rental', rental: 'rental', homestay: 'homestay', family_hotel: 'family_hotel', factory_dormitory: 'factory_dormitory', care_home: 'care_home',
}
export const idTypeLabels: Record<string, string> = {
  居民身份证: 'resident_id', 身份证: 'resident_id', 护照: 'passport', 港澳居民来往内地通行证: 'hk_macao_permit', 港澳通行证: 'hk_macao_permit',
  台湾居民来往大陆通行证: 'taiwan_permit', 台胞证: 'taiwan_permit', 其他: 'other',
  resident_id: 'resident_id', passport: 'passport', hk_macao_permit: 'hk_macao_permit', taiwan_permit: 'taiwan_permit', other: 'other',
}
const yes = new Set(['是', 'y', 'yes', 'true', '1', '√'])
const no = new Set(['否', 'n', 'no', 'false', '0', '×'])

/** A heading reduced to what identifies it: no spaces, brackets or units, lower case. */
export const normaliseHeading = (h: string) => h.replace(/[\s（）()【】[\]:：*＊]/g, '').replace(/（.*?）|\(.*?\)/g, '').toLowerCase()

/** For each field, the file's column whose heading names it (template heading, English name or an alias). */
export function suggestMapping(kind: LedgerKind, headings: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  const normal = headings.map(h => normaliseHeading(h))
  for (const f of ledgerFields[kind]) {
    const names = [f.zh, f.en, f.key, ...(f.aliases ?? [])].map(normaliseHeading)
    const i = normal.findIndex(h => names.includes(h))
    if (i >= 0 && !Object.values(out).includes(headings[i]!)) out[f.key] = headings[i]!
  }
  return out
}

export interface RowError {
  /** Line of the file (the heading is line 1 when it is the first). */
  line: number
  column: string
  value: string
  reason: string
}

// ---------------------------------------------------------------------------------------------
// Reading cells.
// ---------------------------------------------------------------------------------------------

const text = (c: Cell): string => {
  if (c === null || c === undefined) return ''
  if (c instanceof Date) return c.toISOString().slice(0, 10)
  return String(c).trim()
}

const iso = (y: number, m: number, d: number) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
function realDate(y: number, m: number, d: number): string | null {
  const dt = new Date(Date.UTC(y, m - 1, d))
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d ? iso(y, m, d) : null
}

/**
 * A calendar day and, when the ledger gives one, a time (local, UTC+8). Accepts spreadsheet dates
 * and serial numbers, 2020-01-05, 2020/1/5, 2020.1.5, 2020年1月5日, 20200105, with an optional
 * "HH:MM[:SS]".
 */
export function parseDay(c: Cell): { day: string; time: string | null } | null {
  if (c instanceof Date) {
    // Spreadsheet dates carry the wall-clock time as if it were UTC.
    const day = c.toISOString().slice(0, 10)
    const time = c.toISOString().slice(11, 19)
    return { day, time: time === '00:00:00' ? null : time }
  }
  if (typeof c === 'number') {
    if (c < 20_000 || c > 80_000) return null
    const ms = Math.round((c - 25_569) * 86_400_000)
    return parseDay(new Date(ms))
  }
  const s = text(c)
  let m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(s)
  if (!m) {
    m = /^(\d{4})(\d{2})(\d{2})$/.exec(s)
    if (!m) return null
  }
  const day = realDate(Number(m[1]), Number(m[2]), Number(m[3]))
  if (!day) return null
  if (m[4] === undefined) return { day, time: null }
  const h = Number(m[4])
  const min = Number(m[5])
  const sec = Number(m[6] ?? 0)
  if (h > 23 || min > 59 || sec > 59) return null
  return { day, time: `${String(h).padStart(2, '0')}:${m[5]}:${String(sec).padStart(2, '0')}` }
}

export interface LedgerContext {
  crs: CoordinateSystem
  /** The latest day a ledger may mention (today in the district). */
  today: string
  /** Whether a WGS-84 point lies inside the district, and inside the user's jurisdiction. */
  where: (lon: number, lat: number) => 'ok' | 'outside-district' | 'outside-jurisdiction'
  jurisdictionName: string
  /** Dictionary items by code and by their exact wording. */
  items: Map<string, { code: string; needsText: boolean; departmentCode: string }>
  departments: Map<string, string>
  /** Police stations by name and code. */
  stations: Map<string, number>
  keys: { hmacHex: (id: string) => string }
}

const whatZh: Record<string, string> = {
  'the day found': '发现日期', 'the day registered': '登记日期', 'the day moved in': '入住日期', 'the day referred': '交办日期', 'the day rectified': '整改日期',
}

/** Reads the cells of one row into a record, collecting every problem of the row. */
class RowReader {
  errors: RowError[] = []
  constructor(private readonly line: number, private readonly cells: Record<string, Cell>, private readonly fields: Map<string, LedgerField>,
    private readonly mapping: Record<string, string>) {}

  private fail(key: string, value: Cell, reason: string) {
    this.errors.push({ line: this.line, column: this.mapping[key] ?? this.fields.get(key)?.zh ?? key, value: text(value), reason })
  }

  raw(key: string): Cell {
    return this.cells[key] ?? null
  }

  str(key: string, max: number): string | null {
    const v = text(this.raw(key))
    if (!v) {
      if (this.fields.get(key)?.required) this.fail(key, v, '必填，但为空 (required, but empty)')
      return null
    }
    const problem = textProblem(v)
    if (problem) {
      this.fail(key, v, problem === 'nul' ? '含有 NUL 字符，无法保存 (contains a NUL character, which cannot be stored)'
        : '含有无效的 Unicode 字符 (holds an invalid Unicode character)')
      return null
    }
    if (v.length > max) {
      this.fail(key, v, `超过 ${max} 个字符 (longer than ${max} characters)`)
      return null
    }
    return v
  }

  count(key: string): number {
    const c = this.raw(key)
    const v = text(c)
    if (!v) return 0
    if (!/^\d{1,6}$/.test(v)) {
      this.fail(key, c, '应为不小于 0 的整数 (not a whole number of 0 or more)')
      return 0
    }
    return Number(v)
  }

  coordinate(key: string): number | null {
    const c = this.raw(key)
    const v = text(c)
    if (!v) {
      this.fail(key, c, '必填，但为空 (required, but empty)')
      return null
    }
    const n = Number(v)
    if (!Number.isFinite(n)) {
      this.fail(key, c, '不是数字，应为十进制度，如 119.9712 (not a number: decimal degrees, e.g. 119.9712)')
      return null
    }
    return n
  }

  day(key: string, today: string): string | null {
    const c = this.raw(key)
    if (!text(c)) {
      if (this.fields.get(key)?.required) this.fail(key, c, '必填，但为空 (required, but empty)')
      return null
    }
    const d = parseDay(c)
    if (!d) {
      this.fail(key, c, '不是日期，请写作 2020-01-05 (not a date: write 2020-01-05)')
      return null
    }
    if (d.day > today) {
      this.fail(key, c, `晚于今天 ${today} (in the future, after ${today})`)
      return null
    }
    if (d.day < '1990-01-01') {
      this.fail(key, c, '早于 1990 年，是否录入有误 (before 1990: mistyped?)')
      return null
    }
    return d.day
  }

  /** A moment: the day with its time if given, else noon, in the district's time (UTC+8). */
  moment(key: string, today: string): string | null {
    const c = this.raw(key)
    const day = this.day(key, today)
    if (!day) return null
    const t = parseDay(c)!.time ?? '12:00:00'
    return new Date(`${day}T${t}+08:00`).toISOString()
  }

  choice(key: string, labels: Record<string, string>, fallback: string | null, what: string): string | null {
    const c = this.raw(key)
    const v = text(c)
    if (!v) {
      if (this.fields.get(key)?.required) this.fail(key, c, '必填，但为空 (required, but empty)')
      return fallback
    }
    const hit = labels[v] ?? labels[v.toLowerCase()]
    if (!hit) this.fail(key, c, `无法识别 (not a known ${what})`)
    return hit ?? null
  }

  flag(key: string, fallback: boolean): boolean {
    const c = this.raw(key)
    const v = text(c).toLowerCase()
    if (!v) return fallback
    if (yes.has(v)) return true
    if (no.has(v)) return false
    this.fail(key, c, '请填“是”或“否” (write 是 or 否)')
    return fallback
  }

  phone(key: string): string | null {
    const v = this.str(key, 30)
    if (v && !/^[0-9+\-() ]{5,20}$/.test(v)) {
      this.fail(key, v, '不是电话号码 (not a phone number)')
      return null
    }
    return v
  }

  order(earlier: string, later: string, a: string | null, b: string | null, what: string) {
    if (a && b && b < a) this.fail(later, this.raw(later), `早于${whatZh[what] ?? what} ${a.slice(0, 10)} (before ${what})`)
  }
}

export interface PremisesRecord {
  ref: string; kind: string; address: string; lon: number; lat: number; roomsLet: number; bedsLet: number; occupants: number
  ownerName: string | null; ownerPhone: string | null; secondLandlordName: string | null; secondLandlordPhone: string | null
  secondLandlordCollectedOn: string | null; statementSignedOn: string | null; leaseFiledOn: string | null
  foundOn: string; registeredOn: string | null; deregisteredOn: string | null
}
export interface ResidentRecord {
  ref: string; premisesRef: string; name: string; idType: string; idNumber: string; phone: string | null; floating: boolean
  movedInOn: string; movedOutOn: string | null; registeredOn: string | null; deregisteredOn: string | null
  /** The special categories, when the column is mapped (undefined: the file says nothing of them). */
  specialCategories?: FlagCategory[]; flaggedOn?: string
}
export interface HazardRecord {
  ref: string; premisesRef: string; itemCode: string; otherText: string | null; severity: 'general' | 'major'; departmentCode: string
  foundAt: string; referredAt: string | null; rectifiedAt: string | null; verifiedAt: string | null; deadline: string | null
  status: 'found' | 'referred' | 'rectified' | 'verified'
}
export interface EnforcementRecord {
  ref: string; enforcementKind: EnforcementKind; occurredOn: string; count: number; caseNumber: string | null
  premisesRef: string | null; policeStationId: number | null; note: string | null
}
export type LedgerRecord = PremisesRecord | ResidentRecord | HazardRecord | EnforcementRecord

/** The kinds of enforcement record by their Chinese names and codes. */
const enforcementKindLabels: Record<string, string> = Object.fromEntries(enforcementKinds.flatMap(k => [[enforcementKindZh[k], k], [k, k]]))
/** The special categories by their Chinese names (and a few shorter ones ledgers write). */
const flagLabels: Record<string, FlagCategory> = {
  ...Object.fromEntries(flagCategories.flatMap(c => [[flagCategoryZh[c], c], [c, c]])), 精神病人: 'mental_illness', 肇事肇祸精神病人: 'mental_illness',
}

/**
 * One row checked and read. `cells` maps field keys to the row's cells through the mapping.
 * Returns the record, or the row's problems (every one of them, not just the first).
 */
export function readRow(kind: LedgerKind, line: number, cells: Record<string, Cell>, mapping: Record<string, string>, ctx: LedgerContext):
  { record: LedgerRecord; errors: [] } | { record: null; errors: RowError[] } {
  const fields = new Map(ledgerFields[kind].map(f => [f.key, f]))
  const r = new RowReader(line, cells, fields, mapping)
  const today = ctx.today
  let record: LedgerRecord | null = null
  if (kind === 'premises') {
    const ref = r.str('ref', 64)
    const kindCode = r.choice('kind', premisesKindLabels, null, 'kind of premises (群租房, 出租房屋, 民宿, 家庭旅馆, 厂企集中宿舍, 养老院)')
    const address = r.str('address', 300)
    const lon0 = r.coordinate('lon')
    const lat0 = r.coordinate('lat')
    let lon = 0
    let lat = 0
    if (lon0 !== null && lat0 !== null) {
      if (lon0 < 73 || lon0 > 136 || lat0 < 3 || lat0 > 54) {
        r.errors.push({ line, column: mapping.lon ?? '经度', value: `${lon0}, ${lat0}`, reason: lon0 >= 3 && lon0 <= 54 && lat0 >= 73 && lat0 <= 136 ? '经度和纬度填反了 (longitude and latitude are swapped)' : '不在中国境内 (not a place in China)' })
      }
      else {
        ;[lon, lat] = toWgs84(lon0, lat0, ctx.crs)
        const where = ctx.where(lon, lat)
        if (where !== 'ok') {
          r.errors.push({ line, column: mapping.lon ?? '经度', value: `${lon0}, ${lat0}`, reason: where === 'outside-district'
            ? `不在本区范围内（按 ${ctx.crs.toUpperCase()} 坐标）(outside the district, as ${ctx.crs.toUpperCase()} coordinates)` : `不在您的管辖范围（${ctx.jurisdictionName}）内 (outside your jurisdiction)` })
        }
      }
    }
    const rec = {
      ref: ref!, kind: kindCode!, address: address!, lon, lat,
      roomsLet: r.count('roomsLet'), bedsLet: r.count('bedsLet'), occupants: r.count('occupants'),
      ownerName: r.str('ownerName', 100), ownerPhone: r.phone('ownerPhone'),
      secondLandlordName: r.str('secondLandlordName', 100), secondLandlordPhone: r.phone('secondLandlordPhone'),
      secondLandlordCollectedOn: r.day('secondLandlordCollectedOn', today), statementSignedOn: r.day('statementSignedOn', today),
      leaseFiledOn: r.day('leaseFiledOn', today), foundOn: r.day('foundOn', today)!, registeredOn: r.day('registeredOn', today),
      deregisteredOn: r.day('deregisteredOn', today),
    }
    r.order('foundOn', 'registeredOn', rec.foundOn, rec.registeredOn, 'the day found')
    r.order('registeredOn', 'deregisteredOn', rec.registeredOn, rec.deregisteredOn, 'the day registered')
    if (rec.deregisteredOn && !rec.registeredOn) r.errors.push({ line, column: mapping.deregisteredOn ?? '注销日期', value: rec.deregisteredOn, reason: '有注销日期却没有登记日期 (deregistered but never registered)' })
    if (rec.secondLandlordCollectedOn && !rec.secondLandlordName) r.errors.push({ line, column: mapping.secondLandlordName ?? '二房东', value: '', reason: '有二房东信息采集日期却没有二房东姓名 (a collection date without the second landlord\'s name)' })
    record = rec
  }
  else if (kind === 'residents') {
    const premisesRef = r.str('premisesRef', 64)
    const idType = r.choice('idType', idTypeLabels, 'resident_id', 'kind of ID document')
    const idRaw = r.str('idNumber', 40)
    let idNumber = idRaw ? normaliseIdNumber(idRaw) : ''
    if (idRaw && idType === 'resident_id') {
      const problem = residentIdProblem(idNumber)
      if (problem) {
        r.errors.push({ line, column: mapping.idNumber ?? '证件号码', value: maskIdNumber(idRaw), reason: `身份证号码有误 (${problem})` })
        idNumber = ''
      }
    }
    const rec = {
      ref: '', premisesRef: premisesRef!, name: r.str('name', 100)!, idType: idType!, idNumber, phone: r.phone('phone'),
      floating: r.flag('floating', true), movedInOn: r.day('movedInOn', today)!, movedOutOn: r.day('movedOutOn', today),
      registeredOn: r.day('registeredOn', today), deregisteredOn: r.day('deregisteredOn', today),
    }
    r.order('movedInOn', 'movedOutOn', rec.movedInOn, rec.movedOutOn, 'the day moved in')
    r.order('movedInOn', 'registeredOn', rec.movedInOn, rec.registeredOn, 'the day moved in')
    r.order('registeredOn', 'deregisteredOn', rec.registeredOn, rec.deregisteredOn, 'the day registered')
    if (rec.deregisteredOn && !rec.registeredOn) r.errors.push({ line, column: mapping.deregisteredOn ?? '注销日期', value: rec.deregisteredOn, reason: '有注销日期却没有登记日期 (deregistered but never registered)' })
    if (idNumber && premisesRef) rec.ref = `${premisesRef}|${rec.idType}|${ctx.keys.hmacHex(idNumber)}`
    const out: ResidentRecord = rec
    if (mapping.specialCategories) {
      const raw = text(r.raw('specialCategories'))
      const parts = raw ? raw.split(/[、,，;；\s]+/).filter(Boolean) : []
      const cats = new Set<FlagCategory>()
      for (const part of parts) {
        const c = flagLabels[part]
        if (c) cats.add(c)
        else r.errors.push({ line, column: mapping.specialCategories, value: part, reason: '无法识别的人员类别，应为可能肇事肇祸精神病人或关注对象 (not a known category)' })
      }
      out.specialCategories = [...cats].sort()
      out.flaggedOn = r.day('flaggedOn', today) ?? rec.registeredOn ?? rec.movedInOn
    }
    record = out
  }
  else if (kind === 'enforcement') {
    const ref = r.str('ref', 64)
    const enforcementKind = r.choice('kind', enforcementKindLabels, null, 'kind of enforcement result') as EnforcementKind | null
    const occurredOn = r.day('occurredOn', today)
    const countText = text(r.raw('count'))
    const count = countText ? r.count('count') : 1
    if (countText && count < 1) r.errors.push({ line, column: mapping.count ?? '数量', value: countText, reason: '应为正整数 (a whole number of 1 or more)' })
    const premisesRef = r.str('premisesRef', 64)
    const stationRaw = text(r.raw('policeStation'))
    const policeStationId = stationRaw ? ctx.stations.get(stationRaw) ?? null : null
    if (stationRaw && policeStationId === null) r.errors.push({ line, column: mapping.policeStation ?? '派出所', value: stationRaw, reason: '没有此名称或代码的派出所 (no police station has this name or code)' })
    if (!premisesRef && !stationRaw) r.errors.push({ line, column: mapping.policeStation ?? '派出所', value: '', reason: '无房屋台账编号时须填派出所 (say the police station when the record has no premises)' })
    record = {
      ref: ref!, enforcementKind: enforcementKind!, occurredOn: occurredOn!, count, caseNumber: r.str('caseNumber', 60),
      premisesRef, policeStationId, note: r.str('note', 500),
    }
  }
  else {
    const premisesRef = r.str('premisesRef', 64)
    const itemRaw = text(r.raw('item'))
    const item = itemRaw ? ctx.items.get(itemRaw.toUpperCase()) ?? ctx.items.get(itemRaw) : undefined
    if (!itemRaw) r.errors.push({ line, column: mapping.item ?? '隐患字典项', value: '', reason: '必填，但为空 (required, but empty)' })
    else if (!item) r.errors.push({ line, column: mapping.item ?? '隐患字典项', value: itemRaw, reason: '不是隐患字典（附件2）中的项，请填编号（如 FIRE-08）或原文 (not an item of the hazard dictionary: give its code, e.g. FIRE-08, or its exact wording)' })
    const otherText = r.str('otherText', 500)
    if (item?.needsText && !otherText) r.errors.push({ line, column: mapping.otherText ?? '其他说明', value: '', reason: `字典项 ${item.code} 为“其他”，须填写说明 (item ${item.code} is "other": describe the hazard)` })
    const severity = r.choice('severity', { 一般: 'general', 重大: 'major', 一般隐患: 'general', 重大隐患: 'major', general: 'general', major: 'major' }, 'general', 'severity (一般 or 重大)') as 'general' | 'major'
    const depRaw = text(r.raw('department'))
    let departmentCode = item?.departmentCode ?? 'police'
    if (depRaw) {
      const d = ctx.departments.get(depRaw) ?? ctx.departments.get(depRaw.toLowerCase())
      if (!d) r.errors.push({ line, column: mapping.department ?? '责任部门', value: depRaw, reason: '无法识别的部门 (not a known department)' })
      else departmentCode = d
    }
    const foundAt = r.moment('foundAt', today)
    const referredAt = r.moment('referredAt', today)
    const rectifiedAt = r.moment('rectifiedAt', today)
    const verifiedAt = r.moment('verifiedAt', today)
    const deadlineCell = r.raw('deadline')
    let deadline: string | null = null
    if (text(deadlineCell)) {
      const d = parseDay(deadlineCell)
      if (!d) r.errors.push({ line, column: mapping.deadline ?? '整改期限', value: text(deadlineCell), reason: '不是日期，请写作 2020-01-05 (not a date: write 2020-01-05)' })
      else deadline = d.day
    }
    r.order('foundAt', 'referredAt', foundAt, referredAt, 'the day found')
    r.order('foundAt', 'rectifiedAt', referredAt ?? foundAt, rectifiedAt, referredAt ? 'the day referred' : 'the day found')
    r.order('rectifiedAt', 'verifiedAt', rectifiedAt, verifiedAt, 'the day rectified')
    if (verifiedAt && !rectifiedAt) r.errors.push({ line, column: mapping.verifiedAt ?? '验收日期', value: verifiedAt.slice(0, 10), reason: '有验收日期却没有整改日期 (verified but never rectified)' })
    if (deadline && foundAt && deadline < localDay(foundAt)) r.errors.push({ line, column: mapping.deadline ?? '整改期限', value: deadline, reason: `早于发现日期 ${localDay(foundAt)} (before the day found)` })
    const ref = r.str('ref', 64) ?? (premisesRef && item && foundAt ? `${premisesRef}|${item.code}|${localDay(foundAt)}` : '')
    record = {
      ref, premisesRef: premisesRef!, itemCode: item?.code ?? '', otherText, severity, departmentCode,
      foundAt: foundAt!, referredAt, rectifiedAt, verifiedAt, deadline,
      status: verifiedAt ? 'verified' : rectifiedAt ? 'rectified' : referredAt ? 'referred' : 'found',
    }
  }
  if (r.errors.length) return { record: null, errors: r.errors }
  return { record: record!, errors: [] }
}

// ---------------------------------------------------------------------------------------------
// Showing values, as a ledger writes them (the dry run's list of changes).
// ---------------------------------------------------------------------------------------------

/** The first (Chinese) label of each code. */
const labelOf = (labels: Record<string, string>) => {
  const out = new Map<string, string>()
  for (const [label, code] of Object.entries(labels)) if (!out.has(code)) out.set(code, label)
  return out
}
const kindText = labelOf(premisesKindLabels)
const idTypeText = labelOf(idTypeLabels)
const severityText: Record<string, string> = { general: '一般', major: '重大' }

/** A moment in the district's time: the day, and the time unless it is the noon a ledger without times gets. */
function momentText(v: Date | string): string {
  const local = localMinute(v)
  return local.endsWith(' 12:00') ? local.slice(0, 10) : local
}

/** A field's value as a person reads it in a ledger: labels for codes, days, 是/否, six decimals of a degree. */
export function ledgerValueText(field: string, v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'boolean') return v ? '是' : '否'
  if (v instanceof Date || (field.endsWith('At') && typeof v === 'string')) return momentText(v as Date | string)
  if (field === 'lon' || field === 'lat') return Number(v).toFixed(6)
  if (field === 'kind') return kindText.get(String(v)) ?? String(v)
  if (field === 'idType') return idTypeText.get(String(v)) ?? String(v)
  if (field === 'severity') return severityText[String(v)] ?? String(v)
  if (field === 'enforcementKind') return enforcementKindZh[String(v) as EnforcementKind] ?? String(v)
  if (field === 'specialCategories' && Array.isArray(v)) return v.map(c => flagCategoryZh[c as FlagCategory] ?? String(c)).join('、')
  return String(v)
}

/** What a record is, for the eye: the premises' address, the person's name and masked ID, the hazard's item. */
export function ledgerRecordLabel(record: LedgerRecord): string {
  if ('enforcementKind' in record) return `${enforcementKindZh[record.enforcementKind]} ${record.caseNumber ?? ''}`.trim()
  if ('address' in record) return record.address
  if ('idNumber' in record) return `${record.name} ${maskIdNumber(record.idNumber)}`
  return record.otherText ? `${record.itemCode} ${record.otherText}` : record.itemCode
}
