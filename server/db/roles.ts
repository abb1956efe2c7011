import { randomBytes } from 'node:crypto'
import { checkRoleName } from '../lib/config.js'
import { pgArray } from './arrays.js'
import type { Sql } from './index.js'
import { schemaLock } from './migrate.js'

/**
 * Least privilege on real PostgreSQL: two roles. The owner runs the migrations and owns every table
 * and function; the app runs as a runtime role that owns nothing, so it cannot ALTER or DROP a table,
 * switch a trigger off, or TRUNCATE. The grants below are what the app needs and no more; they are
 * applied again after every migration run, so new tables get them.
 */

/** What the runtime role may do on the tables whose rows, once written, stay as written. */
export const appendOnlyTables: readonly string[] = ['audit_log', 'report_submission']

/** Tables the runtime role only reads (which migrations and function files have been applied). */
export const readOnlyTables: readonly string[] = ['schema_migration', 'schema_function']

/** Who a connection is, as far as privileges go. */
export interface ConnectionRole {
  user: string
  superuser: boolean
  /** Owns the app's tables, or is a member of their owner: it could alter them, triggers included. */
  ownsTables: boolean
  /** May create roles (a superuser or CREATEROLE). */
  createRole: boolean
}

/** Whom `sql` connects as, and whether that is more than the app needs. */
export async function connectionRole(sql: Sql): Promise<ConnectionRole> {
  const [row] = await sql<ConnectionRole[]>`
    select current_user as user, r.rolsuper as superuser, r.rolsuper or r.rolcreaterole as create_role,
           coalesce((select pg_has_role(current_user, c.relowner, 'MEMBER') from pg_class c
                     where c.oid = to_regclass('audit_log')), false) as owns_tables
    from pg_roles r where r.rolname = current_user`
  return row!
}

/**
 * Gives `role` exactly the app's privileges on every object of the schema, taking away anything
 * more (REVOKE ALL first). Run by the owner after the migrations, under the migrations' lock so
 * that two starting processes do not update the same catalog rows at once. Refuses a role that
 * is a superuser or a member of the tables' owner: it would keep every power whatever is granted.
 */
export async function grantRuntime(sql: Sql, role: string): Promise<void> {
  checkRoleName(role)
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${schemaLock})`
    const [r] = await tx<{ superuser: boolean; owner: boolean }[]>`
      select rolsuper as superuser,
             coalesce((select pg_has_role(${role}, c.relowner, 'MEMBER') from pg_class c
                       where c.oid = to_regclass('audit_log')), false) as owner
      from pg_roles where rolname = ${role}`
    if (!r) throw new Error(`the database role "${role}" does not exist`)
    if (r.superuser) throw new Error(`the database role "${role}" is a superuser: the app must run as a role with no more than its grants`)
    if (r.owner) throw new Error(`the database role "${role}" owns the app's tables (or is a member of their owner): the app must run as a role of its own`)
    // Objects of an extension (PostGIS's spatial_ref_sys and functions) keep the grants their
    // extension gave them: PUBLIC may read and execute them.
    const statements = await tx<{ statement: string }[]>`
      with ours as (
        select c.oid, c.relkind, c.relname from pg_class c
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
          and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
      )
      select format('grant usage on schema public to %I', ${role}::text) as statement
      union all
      select format('revoke all on %s %s from %I; grant %s on %s %s to %I',
               kind, oid::regclass, ${role}::text, privileges, kind, oid::regclass, ${role}::text)
      from (
        select oid, case when relkind = 'S' then 'sequence' else 'table' end as kind,
               case when relkind = 'S' then 'usage, select'
                    when relname = any(${pgArray(appendOnlyTables)}::text[]) then 'select, insert'
                    when relname = any(${pgArray(readOnlyTables)}::text[]) then 'select'
                    else 'select, insert, update, delete' end as privileges
        from ours
      ) t
      union all
      select format('grant execute on function %s to %I', p.oid::regprocedure, ${role}::text)
      from pg_proc p
      where p.pronamespace = 'public'::regnamespace
        and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')`
    await tx.unsafe(statements.map(s => s.statement).join(';\n')).simple()
  })
}

/**
 * Creates the runtime role if it does not exist yet (roles belong to the whole cluster, so several
 * databases, or test runs, may share one): LOGIN with `password` on a server, NOLOGIN where nobody
 * logs in (the embedded database, whose tests SET ROLE to it). Safe when another process creates
 * it at the same moment.
 * @returns whether this call created it
 */
export async function createRuntimeRole(sql: Sql, role: string, password: string | null): Promise<boolean> {
  checkRoleName(role)
  const [row] = await sql<{ statement: string }[]>`
    select format('create role %I %s nosuperuser nocreatedb nocreaterole noreplication nobypassrls',
      ${role}::text, case when ${password}::text is null then 'nologin' else format('login password %L', ${password}::text) end) as statement`
  try {
    await sql.unsafe(row!.statement)
    return true
  }
  catch (e) {
    // 42710: it exists; 23505: another session created it between our check and our insert.
    const code = (e as { code?: string }).code
    if (code === '42710' || code === '23505') return false
    throw e
  }
}

/** A password for a role created here: 24 random bytes, URL-safe so it goes into a URL as it is. */
export function newRolePassword(): string {
  return randomBytes(24).toString('base64url')
}

/** The same server and database as `url`, logged in as another role. */
export function urlAs(url: string, role: string, password: string): string {
  const u = new URL(url)
  u.username = role
  u.password = password
  return u.toString()
}

/** The same URL with its password replaced by stars, for printing. */
export function withoutPassword(url: string): string {
  const u = new URL(url)
  if (u.password) u.password = '****'
  return u.toString()
}

/**
 * What an administrator runs to set up the two roles, in plain words and SQL: printed by `npm start`
 * when the single DATABASE_URL connects as a superuser or as the tables' owner.
 */
export function rolesAdvice(url: string, current: ConnectionRole, appRole: string): string {
  const runtime = urlAs(url, appRole, 'PASSWORD')
  const who = current.superuser ? 'a superuser' : 'the owner of its tables'
  return [
    `Least privilege: the app connects to PostgreSQL as "${current.user}", ${who}. That role can alter the`,
    'tables and switch their triggers off, so a compromised app could rewrite the audit trail and',
    'submitted tables. Run the migrations as the owner and the app as a role that only reads and writes data:',
    '',
    `  1. As a superuser or a role with CREATEROLE, once (or start once with \`npm start -- --create-roles\`):`,
    `       create role ${appRole} login password 'PASSWORD';`,
    `  2. Start with both connections; every start applies the migrations as the owner, then the grants:`,
    `       DATABASE_OWNER_URL=${withoutPassword(url)}`,
    `       DATABASE_URL=${runtime}`,
    '',
    'The README ("Database roles") says how to give the tables an owner that is not a superuser.',
    'Until then the app keeps running as it is.',
  ].join('\n')
}
