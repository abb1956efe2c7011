import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { buildApp } from '../../server/app.js'
import { setBulkLoad } from '../../server/db/bulk-load.js'
import type { Tx } from '../../server/db/index.js'
import { signIn } from '../helpers/app.js'
import { openTestDatabase, type TestDatabase } from '../helpers/db.js'
import { testKeys } from '../helpers/keys.js'
import { testAppRole } from '../helpers/pg-url.js'

/**
 * Least privilege: the app's database role may read and write data and nothing more. On PostgreSQL
 * the app's connection logs in as that role. The embedded database has one user, the process (a
 * superuser); there the one connection takes the role with SET ROLE for the whole session, so the
 * same grants are proven on both backends.
 */

const embedded = inject('backend') === 'embedded'
let db: TestDatabase
let app: FastifyInstance
let bureau: string

beforeAll(async () => {
  db = await openTestDatabase()
  if (embedded) await db.sql`set role ${db.sql(testAppRole.name)}`
  // A low bulk threshold, so that a small import commit takes the set-wise path.
  app = await buildApp({ db, keys: testKeys, imports: { bulkRows: 5, batchRows: 4 } })
  bureau = await signIn(app, 'bureau')
})
afterAll(async () => {
  await app.close()
  await db.close()
})

/** Runs `fn` as the tables' owner in a transaction (embedded: the session's superuser, for the transaction). */
async function asOwner<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.owner.begin(async (tx) => {
    if (embedded) await tx`set local role postgres`
    return fn(tx)
  }) as Promise<T>
}

class Accepted extends Error {}

/**
 * Runs one statement on the app's connection in a transaction that is always rolled back.
 * @returns 'accepted', or the SQLSTATE and message it was refused with
 */
async function asApp(statement: string): Promise<string> {
  try {
    await db.sql.begin(async (tx) => {
      await tx.unsafe(statement)
      throw new Accepted()
    })
    return 'unreachable'
  }
  catch (e) {
    if (e instanceof Accepted) return 'accepted'
    const { code, message } = e as { code?: string; message: string }
    return `${code}: ${message}`
  }
}

/** Each statement's outcome as the app's role, keyed by the statement. */
async function outcomes(statements: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const s of statements) out[s] = await asApp(s)
  return out
}

/**
 * A refusal for lack of privilege (SQLSTATE 42501 with PostgreSQL's own wording), not by one of our
 * triggers, which raise 42501 too: the role must not even get as far as the trigger.
 */
const refused = (statements: string[]) =>
  Object.fromEntries(statements.map(s => [s, expect.stringMatching(/^42501: (permission denied|must be owner)/)]))

describe('the app\'s database role', () => {
  it('is no superuser and owns no table, sequence or function of the schema', async () => {
    const [me] = await db.sql<{ currentUser: string; superuser: boolean }[]>`
      select current_user, rolsuper as superuser from pg_roles where rolname = current_user`
    expect(me).toEqual({ currentUser: testAppRole.name, superuser: false })
    if (!embedded) expect((await db.sql`select session_user`)[0]!.sessionUser).toBe(testAppRole.name)
    const [owned] = await db.sql<{ relations: number; functions: number }[]>`
      select (select count(*)::int from pg_class where relnamespace = 'public'::regnamespace and pg_has_role(current_user, relowner, 'MEMBER')) as relations,
             (select count(*)::int from pg_proc where pronamespace = 'public'::regnamespace and pg_has_role(current_user, proowner, 'MEMBER')) as functions`
    expect(owned).toEqual({ relations: 0, functions: 0 })
  })

  it('cannot switch off, drop, rewrite or bypass the audit trail\'s triggers', async () => {
    const statements = [
      'alter table audit_log disable trigger user',
      'alter table audit_log disable trigger audit_log_no_update',
      'alter table audit_log disable trigger all',
      'drop trigger audit_log_no_update on audit_log',
      'create or replace function audit_log_append_only() returns trigger language plpgsql as $$ begin return null; end $$',
      'alter table audit_log owner to current_user',
      'set session_replication_role = replica',
    ]
    expect(await outcomes(statements)).toEqual(refused(statements))
  })

  it('cannot update, delete or truncate the audit trail, and still appends to it and reads it', async () => {
    const statements = ['update audit_log set action = \'changed\'', 'delete from audit_log', 'truncate audit_log', 'select setval(\'audit_log_id_seq\', 1)']
    expect(await outcomes(statements)).toEqual(refused(statements))
    expect(await outcomes([
      'insert into audit_log (action, entity) values (\'test\', \'x\')',
      'select * from audit_log order by id desc limit 1',
    ])).toEqual({
      'insert into audit_log (action, entity) values (\'test\', \'x\')': 'accepted',
      'select * from audit_log order by id desc limit 1': 'accepted',
    })
  })

  it('cannot update, delete or truncate a submitted table, nor switch its triggers off', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/reports/submissions', headers: { cookie: bureau },
      payload: { report: 'attachment-5', period: '2020-04-14', filledBy: '张三' } })
    expect(res.statusCode, res.body).toBe(201)
    const statements = [
      'update report_submission set filled_by = \'李四\'',
      'update report_submission set data = \'{}\'',
      'delete from report_submission',
      'truncate report_submission',
      'alter table report_submission disable trigger user',
      'drop trigger report_submission_frozen_trg on report_submission',
    ]
    expect(await outcomes(statements)).toEqual(refused(statements))
    const [row] = await db.sql<{ filledBy: string }[]>`select filled_by from report_submission where period_to = '2020-04-14'`
    expect(row!.filledBy).toBe('张三')
  })

  it('cannot drop, alter or truncate any table of the schema, nor switch its triggers off', async () => {
    const tables = (await db.sql<{ name: string }[]>`
      select c.relname as name from pg_class c
      where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
        and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
      order by 1`).map(r => r.name)
    expect(tables).toEqual(expect.arrayContaining(['audit_log', 'report_submission', 'premises', 'hazard', 'resident', 'app_user', 'schema_migration']))
    const statements = tables.flatMap(t => [
      `drop table ${t} cascade`,
      `alter table ${t} add column tampered int`,
      `alter table ${t} disable trigger all`,
      `truncate ${t} cascade`,
    ])
    expect(await outcomes(statements)).toEqual(refused(statements))
  })

  it('cannot create tables or functions in the schema', async () => {
    const statements = [
      'create table public.tampered (id int)',
      'create function public.tampered() returns int language sql as $$ select 1 $$',
    ]
    expect(await outcomes(statements)).toEqual(refused(statements))
  })
})

describe('the triggers that protect data', () => {
  /** The message a statement is refused with, as the owner, in a transaction rolled back either way. */
  async function ownerRefusal(setup: string, statement: string): Promise<string> {
    try {
      await asOwner(async (tx) => {
        await tx.unsafe(setup)
        await tx.unsafe(statement)
        throw new Accepted()
      })
      return 'unreachable'
    }
    catch (e) {
      return e instanceof Accepted ? 'accepted' : (e as Error).message
    }
  }

  it('refuse TRUNCATE of the audit trail and of submitted tables, even to the owner', async () => {
    await asOwner(tx => tx`insert into report_submission (report, subject, period_to, data, filled_by, submitted_by)
      select 'attachment-5', 'district', '2020-03-14', '{}', '王五', id from app_user where username = 'bureau'`)
    expect(await ownerRefusal('select 1', 'truncate report_submission')).toMatch(/submitted table cannot be changed/)
    expect(await ownerRefusal('select 1', 'truncate audit_log')).toMatch(/append-only: TRUNCATE/)
  })

  it('stay on under the bulk-load switch, which only the triggers keeping derived data follow', async () => {
    const conditional = await db.sql<{ name: string }[]>`
      select tgname as name from pg_trigger where not tgisinternal and pg_get_triggerdef(oid) like '%bulk_load_active()%' order by 1`
    expect(conditional.map(r => r.name)).toEqual([
      'hazard_cell_day_del', 'hazard_cell_day_ins', 'hazard_cell_day_upd', 'hazard_history_trg', 'hazard_summary_trg',
      'measure_hazard_trg', 'measure_premises_delete', 'measure_premises_insert_update', 'measure_resident_trg',
      'premises_cell_day_del', 'premises_cell_day_ins', 'premises_cell_day_upd', 'premises_cell_trg',
      'premises_version_del', 'premises_version_ins', 'premises_version_upd',
      'resident_cell_day_del', 'resident_cell_day_ins', 'resident_cell_day_upd',
    ])
    const bulk = 'select set_config(\'app.bulk_load\', \'on\', true)'
    expect(await ownerRefusal(bulk, 'update audit_log set action = \'changed\'')).toMatch(/append-only: UPDATE/)
    expect(await ownerRefusal(bulk, 'delete from report_submission')).toMatch(/submitted table cannot be changed/)
    expect(await ownerRefusal(bulk, `insert into hazard (premises_id, item_code, severity, status, department_code, found_at)
      select id, 'FIRE-13', 'general', 'found', 'fire', now() from premises limit 1`)).toMatch(/needs a description/)
  })
})

describe('the bulk-load switch', () => {
  it('is the app role\'s to use: it locks out other writers until the transaction ends, and ends with it', async () => {
    // One reserved connection, so that "after" is asked of the very session that had the switch on.
    const conn = await db.sql.reserve()
    try {
      await conn`begin`
      await setBulkLoad(conn as unknown as Tx, true)
      const [inside] = await conn<{ on: boolean; locks: string[] }[]>`
        select bulk_load_active() as on, array_agg(c.relname::text || ' ' || l.mode order by c.relname) as locks
        from pg_locks l join pg_class c on c.oid = l.relation
        where l.pid = pg_backend_pid() and c.relname in ('premises', 'resident', 'hazard') and l.mode = 'ShareRowExclusiveLock'`
      await conn`commit`
      expect(inside).toEqual({ on: true, locks: ['hazard ShareRowExclusiveLock', 'premises ShareRowExclusiveLock', 'resident ShareRowExclusiveLock'] })
      const [after] = await conn<{ on: boolean }[]>`select bulk_load_active() as on`
      expect(after!.on).toBe(false)
    }
    finally {
      // Ends the transaction if an expectation above failed inside it (a warning otherwise).
      await conn`rollback`
      conn.release()
    }
  })
})

describe('the app, running as that role', () => {
  it('signs in, records a hazard and refers it, each with its audit row', async () => {
    const inspector = await signIn(app, 'inspector')
    const [p] = await db.sql<{ id: number }[]>`
      select p.id from premises p join app_user u on u.username = 'inspector' and p.town_id = u.jurisdiction_town_id order by p.id limit 1`
    const created = await app.inject({ method: 'POST', url: `/api/premises/${p!.id}/hazards`, headers: { cookie: inspector },
      payload: { itemCode: 'FIRE-06', severity: 'major', deadline: '2099-12-31' } })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json().id as number
    const referred = await app.inject({ method: 'POST', url: `/api/hazards/${id}/refer`, headers: { cookie: inspector }, payload: {} })
    expect(referred.statusCode, referred.body).toBe(200)
    const audit = await db.sql<{ action: string }[]>`
      select action from audit_log where username = 'inspector' and action in ('auth.login', 'hazard.create', 'hazard.refer') order by id`
    expect(audit.map(a => a.action)).toEqual(['auth.login', 'hazard.create', 'hazard.refer'])
    const history = await db.sql<{ status: string }[]>`select status from hazard_event where hazard_id = ${id} order by at, id`
    expect(history.map(h => h.status)).toEqual(['found', 'referred'])
  })

  it('commits an import through the bulk path, keeping tile cells and data version exact, and switches back after it', async () => {
    const [pt] = await db.sql<{ lon: number; lat: number }[]>`
      select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(st_buffer(geom, -0.004)) as p
        from admin_area where level = 'town' and valid_to is null order by id limit 1) s`
    const heading = ['台账编号', '类型', '地址', '经度', '纬度', '出租间数', '居住人数', '发现日期']
    const rows = Array.from({ length: 12 }, (_, i) =>
      [`ROLE-${i}`, '群租房', `权限测试路${i}号`, (pt!.lon + (i % 4) * 0.0003).toFixed(6), (pt!.lat + Math.floor(i / 4) * 0.0003).toFixed(6), '12', '14', '2020-01-05'])
    const file = `${[heading, ...rows].map(r => r.join(',')).join('\r\n')}\r\n`
    const [before] = await db.sql<{ version: number }[]>`select version::int from data_version`
    const up = await app.inject({ method: 'POST', url: '/api/imports?kind=premises&fileName=roles.csv', headers: { cookie: bureau, 'content-type': 'text/csv' }, payload: file })
    expect(up.statusCode, up.body).toBe(201)
    const job = up.json() as { id: string; suggestedMapping: Record<string, string> }
    const start = await app.inject({ method: 'POST', url: `/api/imports/${job.id}/commit`, headers: { cookie: bureau },
      payload: { mapping: job.suggestedMapping, crs: 'wgs84' } })
    expect(start.statusCode, start.body).toBe(202)
    let state: { status: string; message: string | null; summary: { create: number } | null } = { status: 'committing', message: null, summary: null }
    for (let i = 0; i < 600 && state.status === 'committing'; i++) {
      await new Promise(r => setTimeout(r, 50))
      state = (await app.inject({ url: `/api/imports/${job.id}`, headers: { cookie: bureau } })).json()
    }
    expect(state.status, state.message ?? '').toBe('committed')
    expect(state.summary).toMatchObject({ create: 12 })

    const cellsExact = async () => (await db.sql<{ inCells: number; all: number }[]>`
      select (select sum(n)::int from premises_cell) as in_cells, (select count(*)::int from premises) as all`)[0]!
    const afterImport = await cellsExact()
    expect(afterImport.inCells).toBe(afterImport.all)
    const [after] = await db.sql<{ version: number }[]>`select version::int from data_version`
    expect(after!.version).toBeGreaterThan(before!.version)
    const [audit] = await db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'import.premises' and entity_id = ${job.id}`
    expect(audit!.n).toBe(1)

    // The switch was the import transaction's own: a premises recorded afterwards goes through the row triggers.
    const created = await app.inject({ method: 'POST', url: '/api/premises', headers: { cookie: bureau }, payload: {
      kind: 'group_rental', address: '权限测试路99号', location: { lon: pt!.lon - 0.0006, lat: pt!.lat, crs: 'wgs84' },
      roomsLet: 12, bedsLet: 14, occupants: 13, foundOn: '2020-05-01' } })
    expect(created.statusCode, created.body).toBe(201)
    const afterRow = await cellsExact()
    expect(afterRow).toEqual({ inCells: afterImport.all + 1, all: afterImport.all + 1 })
    const [me] = await db.sql<{ currentUser: string }[]>`select current_user`
    expect(me!.currentUser).toBe(testAppRole.name)
  })
})
