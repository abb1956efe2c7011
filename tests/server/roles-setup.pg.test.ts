import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prepareAsLauncher as prepare } from '../helpers/launcher.js'
import { type Database, openDatabase } from '../../server/db/index.js'
import { migrationFiles } from '../../server/db/migrate.js'
import { urlAs } from '../../server/db/roles.js'
import { openTestDatabase, type TestDatabase } from '../helpers/db.js'
import { adminUrl, appRoleUrl, databaseUrl, testAppRole } from '../helpers/pg-url.js'

/** How `npm start` opens the database: which role migrates, which role the app runs as, what it says. */

/** The statement's error message, or 'accepted' (the statement then runs in a transaction rolled back). */
async function attempt(db: Database, statement: string): Promise<string> {
  try {
    await db.sql.begin(async (tx) => {
      await tx.unsafe(statement)
      throw new Error('accepted')
    })
    return 'unreachable'
  }
  catch (e) {
    return (e as Error).message
  }
}

describe('on PostgreSQL', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await openTestDatabase('migrated')
  })
  afterAll(() => db.close())

  it('with one superuser URL, keeps running as it and tells the operator how to set up the two roles', async () => {
    const { configured, said, user } = await prepare({ DATABASE_URL: db.ownerUrl! })
    try {
      expect(user).toBe('postgres')
      expect(configured.owner).toBe(configured.db)
      expect(configured.applied).toEqual([])
      expect(said).toMatch(/connects to PostgreSQL as "postgres", a superuser/)
      expect(said).toContain('create role grd_app login password \'PASSWORD\';')
      expect(said).toContain(`DATABASE_OWNER_URL=${db.ownerUrl}`)
      expect(said).toContain(`DATABASE_URL=${urlAs(db.ownerUrl!, 'grd_app', 'PASSWORD')}`)
    }
    finally {
      await configured.close()
    }
  })

  it('with one superuser URL and --create-roles, creates the app\'s role, grants it, and runs the app as it', async () => {
    const role = `grd_test_made_${process.pid}`
    const env = { DATABASE_URL: db.ownerUrl!, DATABASE_APP_ROLE: role }
    try {
      const first = await prepare(env, true)
      try {
        expect(first.user).toBe(role)
        expect(first.said).toMatch(new RegExp(`Created the database role "${role}"`))
        const url = /DATABASE_URL=(\S+)/.exec(first.said)![1]!
        expect(new URL(url).username).toBe(role)
        expect(new URL(url).password).toMatch(/^[\w-]{32}$/)
        expect(await attempt(first.configured.db, 'alter table audit_log disable trigger user')).toMatch(/must be owner/)
        expect(await attempt(first.configured.db, 'insert into audit_log (action) values (\'test\')')).toBe('accepted')
      }
      finally {
        await first.configured.close()
      }
      // Again: the role is there, its password unknown here, so this run keeps the owner's connection.
      const second = await prepare(env, true)
      await second.configured.close()
      expect(second.user).toBe('postgres')
      expect(second.said).toMatch(new RegExp(`the role "${role}" exists already`))
    }
    finally {
      await db.owner.unsafe(`drop owned by ${role}`)
      await db.owner.unsafe(`drop role if exists ${role}`)
    }
  })

  it('with both URLs, migrates and grants as the owner and runs the app as its role', async () => {
    await db.owner.unsafe(`revoke all on all tables in schema public from ${testAppRole.name}`)
    expect(await attempt(db, 'select count(*) from premises')).toMatch(/permission denied/)
    const { configured, user } = await prepare({ DATABASE_URL: db.url!, DATABASE_OWNER_URL: db.ownerUrl! })
    try {
      expect(user).toBe(testAppRole.name)
      expect(configured.owner).not.toBe(configured.db)
      await configured.closeOwner()
      expect(await attempt(configured.db, 'select count(*) from premises')).toBe('accepted')
      expect(await attempt(configured.db, 'truncate premises cascade')).toMatch(/permission denied/)
    }
    finally {
      await configured.close()
    }
  })

  it('refuses to start the app as a superuser when an owner URL is given too', async () => {
    await expect(prepare({ DATABASE_URL: db.ownerUrl!, DATABASE_OWNER_URL: db.ownerUrl! })).rejects.toThrow(/is a superuser/)
  })

  it('follows the README: a new database owned by a role that is no superuser, migrated by it, used by the app\'s role', async () => {
    const owner = { name: 'grd_test_owner', password: 'grd_test_owner' }
    const name = `grd_test_owned_${process.pid}`
    const server = process.env.DATABASE_URL!
    const admin = await openDatabase({ url: adminUrl(server), max: 1 })
    try {
      // What the superuser does once (README "Database roles", steps 1 and 2).
      await admin.sql.unsafe(`do $$ begin create role ${owner.name} login password '${owner.password}';
        exception when duplicate_object or unique_violation then null; end $$`)
      await admin.sql.unsafe(`create database ${name} owner ${owner.name}`)
      const fresh = await openDatabase({ url: databaseUrl(server, name), max: 1 })
      await fresh.sql`create extension if not exists postgis`
      await fresh.close()

      const appUrl = appRoleUrl(databaseUrl(server, name))
      const ownerUrl = urlAs(databaseUrl(server, name), owner.name, owner.password)
      // The app's role alone cannot build the schema, and says what is missing.
      await expect(prepare({ DATABASE_URL: appUrl })).rejects.toThrow(/set DATABASE_OWNER_URL/)

      const { configured, user } = await prepare({ DATABASE_URL: appUrl, DATABASE_OWNER_URL: ownerUrl })
      try {
        expect(configured.applied).toEqual(await migrationFiles())
        expect(user).toBe(testAppRole.name)
        const [owners] = await configured.owner.sql<{ owners: string[] }[]>`
          select array_agg(distinct pg_get_userbyid(relowner)) as owners from pg_class
          where relnamespace = 'public'::regnamespace and relkind = 'r' and relname <> 'spatial_ref_sys'`
        expect(owners!.owners).toEqual([owner.name])
        expect(await attempt(configured.db, 'select count(*) from hazard_item')).toBe('accepted')
        expect(await attempt(configured.db, 'alter table audit_log disable trigger user')).toMatch(/must be owner/)
      }
      finally {
        await configured.close()
      }
    }
    finally {
      await admin.sql.unsafe(`drop database if exists ${name} with (force)`)
      await admin.close()
    }
  })
})
