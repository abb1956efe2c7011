import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import type { TestDatabase } from './db.js'
import { can, type Permission, type Role, roles } from '../../server/domain/access.js'
import type { RouteInfo } from '../../server/plugins/app/access.js'
import { buildTestApp, signIn } from './app.js'
import { tileOf } from './tiles.js'

/**
 * A property-based fuzz of the API built from its own route table: for each route, requests whose
 * path, query, body or headers carry one bad value (a NUL, a huge number, a wrong type, a very long
 * or odd Unicode text, a deep object, a 3D coordinate...) and otherwise plausible values generated
 * from the route's schema. A route added later is fuzzed without touching the tests. A request may
 * be refused (4xx) but never fail (5xx), and a refused request must write nothing but the record of
 * its refusal.
 */

/** The JSON Schema subset TypeBox produces for request schemas. */
export interface Schema {
  type?: string | string[]
  properties?: Record<string, Schema>
  patternProperties?: Record<string, Schema>
  required?: string[]
  anyOf?: Schema[]
  items?: Schema
  const?: unknown
  enum?: unknown[]
  pattern?: string
  format?: string
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  default?: unknown
}

/** One request of the fuzz, printed short when fast-check reports it. */
export interface FuzzRequest {
  method: string
  url: string
  headers: Record<string, string>
  payload?: string | Buffer
  /** What was made bad, for the report. */
  mutation: string
}

/**
 * Plausible values by field name, so that requests get past the first checks to the handlers:
 * "name:type" for a field of that JSON type only ("id:integer"), or "name" for any.
 */
export type Hints = Record<string, fc.Arbitrary<unknown>>

export interface FuzzContext {
  hints: Hints
  /** Rings with heights (Z) near the places the hints draw boundaries, for geometry fields. */
  ringsWithHeight: fc.Arbitrary<unknown>
}

const datePattern = '^\\d{4}-\\d{2}-\\d{2}$'
const day = fc.constantFrom('2020-03-14', '2020-03-29', '2020-05-01', '2020-06-29')

/** Values that satisfy a schema (mostly: patterns and formats are followed, cross-field rules are not). */
export function valid(s: Schema | undefined, hints: Hints, name = ''): fc.Arbitrary<unknown> {
  const type = Array.isArray(s?.type) ? s.type[0] : s?.type
  const hint = hints[`${name}:${type}`] ?? hints[name]
  if (name && hint) return hint
  if (!s) return fc.constant(null)
  if (s.const !== undefined) return fc.constant(s.const)
  if (s.enum) return fc.constantFrom(...s.enum)
  if (s.anyOf) return fc.oneof(...s.anyOf.map(a => valid(a, hints, name)))
  switch (type) {
    case 'object': {
      if (s.patternProperties) {
        const value = Object.values(s.patternProperties)[0]
        return fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), valid(value, hints), { maxKeys: 3 })
      }
      // Optional fields now and then (hinted ones more often): every extra field is a chance to be refused early.
      const required = new Set(s.required ?? [])
      const fields = Object.entries(s.properties ?? {}).map(([k, v]) => {
        const field = valid(v, hints, k).map(x => [k, x] as const)
        const hinted = hints[`${k}:${Array.isArray(v.type) ? v.type[0] : v.type}`] ?? hints[k]
        return required.has(k) ? field : fc.oneof({ arbitrary: fc.constant(null), weight: hinted ? 1 : 4 }, { arbitrary: field, weight: 1 })
      })
      return fc.tuple(...fields).map(es => Object.fromEntries(es.filter(e => e !== null)))
    }
    case 'array':
      return fc.array(valid(s.items, hints), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 4, 4) })
    case 'string':
      if (s.pattern === datePattern) return day
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern))
      if (s.format === 'date-time') return fc.date({ min: new Date('2019-12-01T00:00:00Z'), max: new Date('2020-12-31T00:00:00Z'), noInvalidDate: true }).map(d => d.toISOString())
      if (s.format === 'uuid') return fc.uuid()
      return fc.string({ minLength: Math.max(s.minLength ?? 0, 1), maxLength: Math.min(s.maxLength ?? 20, 20) })
    case 'integer': {
      const lo = s.minimum ?? -1000
      const hi = s.maximum ?? 100_000
      return fc.oneof(fc.integer({ min: lo, max: Math.min(hi, lo + 30) }), fc.integer({ min: lo, max: hi }))
    }
    case 'number':
      return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true, noDefaultInfinity: true })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** Arrays or objects nested `depth` levels. */
const nested = (depth: number, array: boolean): unknown => {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v }
  return v
}

/** Rings with heights (Z), and with measures too, around a point: the 3D coordinates of the issue. */
export const ringsWithHeight = ([x, y]: [number, number]) => fc.constantFrom(
  [[[x, y, 10], [x + 0.003, y, 10], [x + 0.003, y + 0.003, 10], [x, y + 0.003, 10], [x, y, 10]]],
  [[[x, y, 1, 2], [x + 0.003, y, 1, 2], [x + 0.003, y + 0.003, 1, 2], [x, y, 1, 2]]],
  [[[x, y], [x + 0.003, y, 5], [x + 0.003, y + 0.003], [x, y]]],
)

/** Texts that cannot be stored, or that have tripped servers before. */
const badText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 6 }).map(s => `${s}\u0000${s}`), weight: 4 },
  { arbitrary: fc.constantFrom('\u0000', '\ud800', 'a\udc00b', '\udbff\udbff', 'x\ud83d'), weight: 3 },
  fc.constantFrom('\u202eabc', '\ufeff', '\u2028\u2029', '１２３', '𠮷野家', 'e\u0301', '\u200b', '🏳️‍🌈', '\uffff', '\u0085', ' ', '\t\r\n'),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.integer({ min: 300, max: 120_000 }).map(n => 'x'.repeat(n)),
  fc.integer({ min: 200, max: 30_000 }).map(n => '漢'.repeat(n)),
  fc.constantFrom('=1+1', '-1+1+cmd|\' /C calc\'!A0', '@SUM(1)', '+1', '\t=1', '-2+HYPERLINK("x")'),
  fc.constantFrom('99999999999999999999', '2147483648', '-1', '0', '1e400', 'NaN', 'Infinity', '-0', '0x10', ' 7', '1.5', '1e3'),
  fc.constantFrom('2020-02-30', '0000-01-01', '9999-12-31', '2020-13-01', '+275760-09-13T00:00:00Z', '2020-06-01T25:00:00Z', '1970-01-01T00:00:00Z'),
  fc.constantFrom('', '"', '\'', '\\', '%', '%00', '../../etc/passwd', '<script>', '${x}', 'null', 'true', '[]', '{}'),
)

const badNumber = fc.constantFrom(99999999999999999999, 2147483648, 2147483647, -2147483649, -1, 0, 1.5, 1e308, -1e308, 2 ** 53 + 2, 5e-324, -0)
const numberText = fc.constantFrom('99999999999999999999', '2147483648', '-2147483649', '1e400', '1e20', '-1', '0', '1.5')

/**
 * A bad value for a field of this schema: mostly of the field's own type (an overlong or
 * unstorable text, a number out of range), which passes the type check and goes further, and
 * sometimes of any type.
 */
function badFor(s: Schema, extra: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> {
  const types = new Set([s.type, ...(s.anyOf ?? []).map(a => a.type)].flat().filter(Boolean))
  const own: fc.Arbitrary<unknown>[] = []
  if (types.has('string')) own.push(badText)
  if (types.has('integer') || types.has('number')) own.push(badNumber, numberText)
  if (types.has('boolean')) own.push(fc.constantFrom('true', 'yes', 1, 0, '', 'false '))
  if (types.has('object') || types.has('array') || !own.length) own.push(...extra, badJson(extra))
  return fc.oneof({ arbitrary: fc.oneof(...own), weight: 4 }, { arbitrary: badJson(extra), weight: 1 })
}

/** Any JSON value a field should not get. */
export const badJson = (extra: fc.Arbitrary<unknown>[] = []): fc.Arbitrary<unknown> => fc.oneof(
  { arbitrary: badText, weight: 4 },
  { arbitrary: badNumber, weight: 2 },
  fc.constantFrom(null, true, false, [], {}, [1], { a: 1 }, ['\u0000'], { '\u0000': 1 }),
  fc.integer({ min: 10, max: 31 }).chain(d => fc.constantFrom(nested(d, true), nested(d, false))),
  fc.constantFrom(JSON.parse('{"__proto__":{"polluted":1}}'), JSON.parse('{"constructor":{"prototype":{"polluted":1}}}')),
  fc.jsonValue({ maxDepth: 3 }),
  ...extra,
)

/** Whole bodies that are not what any route takes, as raw bytes. */
const badBody: fc.Arbitrary<{ payload: string | Buffer; type: string; what: string }> = fc.oneof(
  fc.constantFrom(
    { payload: '{', what: 'truncated JSON' },
    { payload: '{"a":1e400}', what: 'a number beyond a double' },
    { payload: '{"a":"\\ud800"}', what: 'a lone surrogate escape' },
    { payload: '{"a":"\\u0000"}', what: 'a NUL escape' },
    { payload: '', what: 'an empty body' },
    { payload: 'null', what: 'null' },
    { payload: '"text"', what: 'a JSON string' },
    { payload: '{"__proto__":{"x":1}}', what: 'a prototype key' },
  ).map(b => ({ ...b, type: 'application/json' })),
  fc.integer({ min: 33, max: 6000 }).map(d => ({ payload: `${'['.repeat(d)}${']'.repeat(d)}`, type: 'application/json', what: `arrays nested ${d} deep` })),
  fc.integer({ min: 33, max: 6000 }).map(d => ({ payload: `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`, type: 'application/json', what: `objects nested ${d} deep` })),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map(b => ({ payload: Buffer.concat([Buffer.from('{"a":"'), Buffer.from(b), Buffer.from([0xFF, 0xC3]), Buffer.from('"}')]), type: 'application/json', what: 'invalid UTF-8' })),
  fc.uint8Array({ minLength: 0, maxLength: 200 }).map(b => ({ payload: Buffer.from(b), type: 'application/octet-stream', what: 'random bytes' })),
  fc.string({ maxLength: 50 }).map(s => ({ payload: s, type: 'text/plain', what: 'plain text' })),
)

/** A text as it travels in a URL, including encodings that do not decode. */
const urlValue: fc.Arbitrary<string> = fc.oneof(
  badText.map((s) => {
    try {
      return encodeURIComponent(s)
    }
    catch {
      return [...Buffer.from(s)].map(b => `%${b.toString(16).padStart(2, '0')}`).join('')
    }
  }),
  fc.constantFrom('%00', 'a%00b', '%ED%A0%80', '%FF', '%', '%E4%B8', '%C0%80', '99999999999999999999', '-1', '1.5', '', '1,99999999999999999999'),
)

const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('abc', '"abc"', 'W/"x"', '*', '"1", "2"', '"99999999999999999999"', '""', '"1",', ',', 'W/', '"\u00ff"', '1', '0', '-1', '" 1"'),
  fc.string({ maxLength: 6 }).map(s => `"${s}\u0000"`),
  fc.integer({ min: 1000, max: 20_000 }).map(n => `"${'9'.repeat(n)}"`),
)

/** The role that may use a route, so that requests reach validation and handlers. */
export function roleFor(permission: Permission | undefined): Role | null {
  if (!permission || permission === 'public') return null
  return (['commander', 'admin', 'inspector', 'analyst', 'leader'] as const).find(r => permission === 'session' || can(r, permission)) ?? 'admin'
}

const paramNames = (url: string) => [...url.matchAll(/:([A-Za-z_]\w*)/g)].map(m => m[1]!)
const toText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))
const query = (q: Record<string, string>) => Object.entries(q).map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&')

function describeValue(v: unknown): string {
  const text = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v))
  return text.length > 80 ? `${text.slice(0, 60)}… (${text.length} characters)` : text
}

/**
 * Requests for one route: plausible values from its schema (and the hints), with exactly one part
 * made bad. Writes also get bad bodies and bad If-Match / If-None-Match / User-Agent headers.
 */
export function requestsFor(route: RouteInfo, { hints, ringsWithHeight: coordinates }: FuzzContext, cookie: string | null): fc.Arbitrary<FuzzRequest> {
  const schema = (route.schema ?? {}) as { params?: Schema; querystring?: Schema; body?: Schema }
  const names = paramNames(route.url)
  const paramArb = fc.record(Object.fromEntries(names.map(n => [n, valid(schema.params?.properties?.[n], hints, n).map(toText)])) as Record<string, fc.Arbitrary<string>>)
  const qProps = schema.querystring?.properties ?? {}
  const qRequired = schema.querystring?.required ?? []
  const queryArb = fc.record(Object.fromEntries(Object.entries(qProps).map(([k, v]) => [k, valid(v, hints, k).map(x => encodeURIComponent(toText(x)))])), { requiredKeys: qRequired.filter(k => k in qProps) }) as fc.Arbitrary<Record<string, string>>
  const write = !['GET', 'HEAD'].includes(route.method)
  const bodyArb = schema.body ? valid(schema.body, hints) : fc.constant(undefined)
  const base = fc.record({ params: paramArb, query: queryArb, body: bodyArb })

  const fields: { path: string; schema: Schema }[] = []
  const walk = (s: Schema | undefined, prefix: string, depth: number) => {
    for (const [k, v] of Object.entries(s?.properties ?? {})) {
      fields.push({ path: `${prefix}${k}`, schema: v })
      if (depth < 2) walk(v.anyOf?.find(a => a.type === 'object') ?? v, `${prefix}${k}.`, depth + 1)
    }
  }
  walk(schema.body, '', 0)

  type Mutation = (b: { params: Record<string, string>; query: Record<string, string>; body: unknown; headers: Record<string, string> }) => string
  const mutations: { arbitrary: fc.Arbitrary<Mutation>; weight: number }[] = []
  const add = (weight: number, arbitrary: fc.Arbitrary<Mutation>) => mutations.push({ arbitrary, weight })
  if (names.length) {
    add(write ? 1 : 3, fc.tuple(fc.constantFrom(...names), urlValue).map(([n, v]) => (b) => {
      b.params[n] = v
      return `path ${n} = ${describeValue(decodeURIComponentSafe(v))}`
    }))
  }
  add(write ? 1 : 4, fc.tuple(fc.constantFrom(...Object.keys(qProps), 'zz'), urlValue, fc.boolean()).map(([n, v, twice]) => (b) => {
    b.query[n] = twice ? `${v}&${encodeURIComponent(n)}=${v}` : v
    return `query ${n} = ${describeValue(decodeURIComponentSafe(v))}${twice ? ' (twice)' : ''}`
  }))
  add(1, fc.tuple(fc.constantFrom('if-match', 'if-none-match', 'user-agent'), headerValue).map(([h, v]) => (b) => {
    b.headers[h] = v
    return `header ${h} = ${describeValue(v)}`
  }))
  if (write) {
    if (fields.length) {
      const field = fc.constantFrom(...fields).chain(f => badFor(f.schema, [coordinates]).map(v => [f.path, v] as const))
      add(8, field.map(([path, v]) => (b) => {
        b.body = setPath(b.body, path.split('.'), v)
        return `body ${path} = ${describeValue(v)}`
      }))
      const geometryPath = fields.find(f => f.path.endsWith('geometry'))?.path
      if (geometryPath) {
        add(1, fc.tuple(coordinates, fc.constantFrom('Polygon', 'MultiPolygon')).map(([rings, type]) => (b) => {
          b.body = setPath(b.body, geometryPath.split('.'), { type, coordinates: type === 'Polygon' ? rings : [rings] })
          return `body ${geometryPath} with heights (Z): ${describeValue(rings)}`
        }))
      }
    }
    add(1, badJson().map(v => (b) => {
      b.body = v
      return `body = ${describeValue(v)}`
    }))
  }
  const raw = write ? badBody : fc.constant(null)

  // One request in ten of a write sends a whole raw body instead (bad JSON, bad UTF-8, deep nesting, other types).
  return fc.tuple(base, fc.oneof(...mutations), fc.nat(9), raw).map(([b, mutate, rawChance, rawBody]) => {
    const parts = { params: { ...b.params }, query: { ...b.query }, body: structuredClone(b.body), headers: write ? { 'if-match': '"1"' } as Record<string, string> : {} }
    let mutation: string
    let payload: string | Buffer | undefined
    let type = 'application/json'
    if (rawBody && rawChance === 0) {
      mutation = `raw body: ${rawBody.what}`
      payload = rawBody.payload
      type = rawBody.type
    }
    else {
      mutation = mutate(parts)
      payload = parts.body === undefined ? undefined : JSON.stringify(parts.body)
    }
    let path = route.url
    for (const n of names) path = path.replace(`:${n}`, parts.params[n] ?? '1')
    path = path.replace('*', 'static/index.html')
    const q = query(parts.query)
    const headers: Record<string, string> = { ...parts.headers, ...(cookie ? { cookie } : {}) }
    if (payload !== undefined) headers['content-type'] = type
    const req: FuzzRequest = { method: route.method, url: q ? `${path}?${q}` : path, headers, payload, mutation }
    return Object.assign(req, { [fc.toStringMethod]: () => `${req.method} ${req.url.length > 200 ? `${req.url.slice(0, 200)}…` : req.url} — ${mutation}` })
  })
}

function decodeURIComponentSafe(v: string): string {
  try {
    return decodeURIComponent(v)
  }
  catch {
    return v
  }
}

/** A copy of `obj` with the value at `path` replaced (objects made where the path needs them). */
function setPath(obj: unknown, path: string[], value: unknown): unknown {
  if (!path.length) return value
  const [head, ...rest] = path as [string, ...string[]]
  const base = obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? obj as Record<string, unknown> : {}
  return { ...base, [head]: setPath(base[head], rest, value) }
}

/**
 * Records every row written to the database: a row trigger on each table notes the table, the
 * operation and, for the audit log, the outcome, so that a refused request can be shown to have
 * written nothing but the record of its refusal.
 */
export async function watchWrites(db: TestDatabase) {
  // Tables and triggers are the owner's to create; the trigger writes as its owner too (security
  // definer), so the app's restricted role records its writes without a grant on fuzz_write.
  const sql = db.owner
  await sql`create table fuzz_write (id bigserial primary key, tab text not null, op text not null, detail text)`
  await sql.unsafe(`
    create function fuzz_note() returns trigger language plpgsql security definer set search_path = public as $$
    begin
      insert into fuzz_write (tab, op, detail) values (tg_table_name, tg_op, case
        when tg_table_name = 'audit_log' then to_jsonb(new) ->> 'outcome'
        when tg_table_name = 'user_session' and tg_op = 'UPDATE' and (to_jsonb(new) - 'last_seen_at') = (to_jsonb(old) - 'last_seen_at') then 'touch'
      end);
      return null;
    end $$`)
  const tables = await sql<{ name: string }[]>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not in ('fuzz_write', 'spatial_ref_sys')`
  for (const { name } of tables) {
    await sql.unsafe(`create trigger fuzz_note after insert or update or delete on "${name}" for each row execute function fuzz_note()`)
  }
  let mark = 0
  return {
    tables: tables.map(t => t.name),
    /** The rows written since the last call. */
    async since(): Promise<{ tab: string; op: string; detail: string | null }[]> {
      const rows = await sql<{ id: number; tab: string; op: string; detail: string | null }[]>`select id, tab, op, detail from fuzz_write where id > ${mark} order by id`
      if (rows.length) mark = rows[rows.length - 1]!.id
      return rows.map(({ tab, op, detail }) => ({ tab, op, detail }))
    },
  }
}

/** Writes a refused request may make: the record of the refusal itself. */
export function isRefusalRecord(w: { tab: string; op: string; detail: string | null }): boolean {
  if (w.tab === 'audit_log') return w.op === 'INSERT' && w.detail !== 'ok'
  if (w.tab === 'login_throttle') return true
  return w.tab === 'user_session' && w.detail === 'touch'
}

/** Sends one fuzz request; a problem found (5xx, a write by a refused request, no error body) as a sentence, or null. */
export async function tryRequest(app: FastifyInstance, writes: Awaited<ReturnType<typeof watchWrites>>, r: FuzzRequest): Promise<{ status: number; problem: string | null }> {
  const res = await app.inject({ method: r.method as 'GET', url: r.url, headers: r.headers, payload: r.payload })
  const written = await writes.since()
  if (res.statusCode >= 500) return { status: res.statusCode, problem: `${res.statusCode} ${res.body.slice(0, 300)}` }
  if (res.statusCode >= 400) {
    const wrong = written.filter(w => !isRefusalRecord(w))
    if (wrong.length) return { status: res.statusCode, problem: `refused with ${res.statusCode} yet wrote ${wrong.map(w => `${w.op} ${w.tab}`).join(', ')}` }
    if (r.method !== 'HEAD') {
      let body: { message?: unknown } = {}
      try {
        body = res.json()
      }
      catch {
        return { status: res.statusCode, problem: `${res.statusCode} without a JSON error body: ${res.body.slice(0, 100)}` }
      }
      if (typeof body.message !== 'string' || !body.message) return { status: res.statusCode, problem: `${res.statusCode} without a message` }
    }
  }
  return { status: res.statusCode, problem: null }
}

/** The application with one signed-in session per role, the write watch and plausible values of the demo district. */
export async function openFuzz() {
  const imports = mkdtempSync(join(tmpdir(), 'grd-fuzz-imports-'))
  const t = await buildTestApp({ imports: { dir: imports } })
  const sql = t.db.sql
  const cookies = {} as Record<Role, string>
  for (const role of roles) cookies[role] = await signIn(t.app, role)
  const [town] = await sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
  const townId = town!.id
  const [spot] = await sql<{ lon: number; lat: number }[]>`
    select st_x(geom) as lon, st_y(geom) as lat from premises
    where town_id = ${townId} and st_contains(st_buffer((select geom from admin_area where id = ${townId}), -0.005), geom) order by id limit 1`
  const at: [number, number] = [spot!.lon, spot!.lat]
  const pool = async (q: Promise<{ id: number }[]>) => (await q).map(r => r.id)
  const ids = [
    ...await pool(sql`select id from premises where town_id = ${townId} order by id limit 3`),
    // Hazards at each step, so that some refer / rectify / verify requests are allowed.
    ...await pool(sql`
      select distinct on (h.status) h.id from hazard h join premises p on p.id = h.premises_id
      where p.town_id = ${townId} order by h.status, h.id`),
    ...await pool(sql`select r.id from resident r join premises p on p.id = r.premises_id where p.town_id = ${townId} order by r.id limit 2`),
    ...await pool(sql`select id from app_user order by id limit 6`),
  ]
  const keyAreas = await pool(sql`
    insert into key_area (campaign_id, name_zh, town_id, status, listed_on, geom)
    select (select id from campaign limit 1), '模糊测试', ${townId}, 'listed', '2020-03-01',
           st_multi(st_buffer(st_setsrid(st_makepoint(${at[0]}, ${at[1]}), 4326), 0.002))
    returning id`)
  const items = await sql<{ code: string }[]>`select code from hazard_item order by code limit 8`
  const departments = await sql<{ code: string }[]>`select code from department order by code`
  const square = (half: number) => {
    const dx = half / 94_500
    const dy = half / 110_900
    return [[[at[0] - dx, at[1] - dy], [at[0] + dx, at[1] - dy], [at[0] + dx, at[1] + dy], [at[0] - dx, at[1] + dy], [at[0] - dx, at[1] - dy]]]
  }
  const tile = tileOf(at[0], at[1], 14)
  const hints: Hints = {
    'id:integer': fc.constantFrom(...ids, ...keyAreas),
    'featureId': fc.constantFrom(...ids),
    'keyAreaId': fc.constantFrom(...keyAreas),
    'excludeId': fc.constantFrom(...keyAreas),
    'town': fc.constant(townId),
    'townId': fc.constant(townId),
    'geometry': fc.integer({ min: 40, max: 400 }).map(half => ({ type: 'Polygon', coordinates: square(half) })),
    'location': fc.constant({ lon: at[0], lat: at[1], crs: 'wgs84' }),
    'itemCode': fc.constantFrom(...items.map(i => i.code)),
    'departmentCode': fc.constantFrom(...departments.map(d => d.code)),
    'password': fc.constant('a-long-enough-password-7'),
    'displayName': fc.constant('模糊测试'),
    'listedOn': day,
    'jurisdiction': fc.constantFrom({ kind: 'district' }, { kind: 'town', id: townId }),
    'parameters': fc.constant({ of: 'group-rentals', eps: 150, minPoints: 8 }),
    'collectionId': fc.constantFrom('premises', 'key-areas', 'areas', 'pois'),
    'z': fc.constant(tile[0]),
    'x': fc.constant(tile[1]),
    'y': fc.constant(tile[2]),
  }
  await t.db.owner`create table fuzz_user as select * from app_user`
  const [lastSession] = await sql<{ id: number }[]>`select max(id)::int as id from user_session`
  const writes = await watchWrites(t.db)
  return {
    t,
    writes,
    context: { hints, ringsWithHeight: ringsWithHeight(at) } satisfies FuzzContext,
    cookieFor: (route: RouteInfo) => {
      const role = roleFor(route.permission)
      return role ? cookies[role] : null
    },
    /** Undoes what an accepted request may have done to the signed-in users and their sessions. */
    async restore() {
      await t.db.owner`
        update app_user u set role = f.role, display_name = f.display_name, jurisdiction_kind = f.jurisdiction_kind,
               jurisdiction_town_id = f.jurisdiction_town_id, jurisdiction_station_id = f.jurisdiction_station_id,
               disabled_at = f.disabled_at, password_hash = f.password_hash
        from fuzz_user f
        where u.id = f.id and (u.role, u.display_name, u.jurisdiction_kind, u.jurisdiction_town_id, u.jurisdiction_station_id, u.disabled_at, u.password_hash)
          is distinct from (f.role, f.display_name, f.jurisdiction_kind, f.jurisdiction_town_id, f.jurisdiction_station_id, f.disabled_at, f.password_hash)`
      await sql`update user_session set revoked_at = null where id <= ${lastSession!.id} and revoked_at is not null`
      await sql`delete from login_throttle`
      // Written behind the app's back: read the versions rather than race their announcement, so
      // that the next request does not meet a session the app still holds as revoked.
      await t.app.versions.refresh()
      await writes.since()
    },
    async close() {
      await t.close()
      rmSync(imports, { recursive: true, force: true })
    },
  }
}

/** How many requests each route gets: FUZZ_RUNS scales a run up to hunt for more. */
export const fuzzRuns = (fallback: number) => Number(process.env.FUZZ_RUNS ?? fallback)
