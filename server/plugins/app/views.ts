import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { HttpError } from '../../lib/http-errors.js'
import type { SavedView, ViewCreate, ViewPage, ViewPatch } from '../../schemas/views.js'

const nameTaken = (name: string) => new HttpError(409, `you already have a view called "${name}" on this page; choose another name`,
  'view-name-taken', `您在此页面已有名为“${name}”的视图，请换一个名称`)

/**
 * Saved views of the dashboard and the map, per user. A view is a page address in parts, never
 * records, so reading one needs no jurisdiction: the page it opens reads through the reader's own.
 * Only its owner renames, shares or deletes it (for anyone else it does not exist).
 */
export function viewsRepository(sql: Sql) {
  async function get(db: Sql | Tx, userId: number, id: number): Promise<SavedView | undefined> {
    const [row] = await db<SavedView[]>`
      select v.id, v.name, v.page, v.query, v.shared, v.user_id = ${userId} as mine, u.display_name as owner,
             to_char(v.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as updated_at
      from saved_view v join app_user u on u.id = v.user_id
      where v.id = ${id} and (v.user_id = ${userId} or v.shared)`
    return row
  }

  /** Refuses a name the user already gave another view of the page (the unique index guards a race). */
  async function checkName(db: Tx, userId: number, page: ViewPage, name: string, except: number | null) {
    const [clash] = await db`
      select 1 from saved_view where user_id = ${userId} and page = ${page} and lower(btrim(name)) = lower(btrim(${name}))
        and id is distinct from ${except}`
    if (clash) throw nameTaken(name.trim())
  }

  return {
    get,

    /** The reader's own views, then those others shared, each by name. */
    async list(userId: number, page?: ViewPage): Promise<SavedView[]> {
      return sql<SavedView[]>`
        select v.id, v.name, v.page, v.query, v.shared, v.user_id = ${userId} as mine, u.display_name as owner,
               to_char(v.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as updated_at
        from saved_view v join app_user u on u.id = v.user_id
        where (v.user_id = ${userId} or v.shared) ${page ? sql`and v.page = ${page}` : sql``}
        order by v.user_id <> ${userId}, lower(v.name), v.id`
    },

    async create(tx: Tx, userId: number, v: ViewCreate): Promise<number> {
      await checkName(tx, userId, v.page, v.name, null)
      const [row] = await tx<{ id: number }[]>`
        insert into saved_view (user_id, name, page, query, shared)
        values (${userId}, ${v.name.trim()}, ${v.page}, ${tx.json(v.query)}, ${v.shared ?? false})
        returning id`
      return row!.id
    },

    /** Changes the user's own view; false when they have none with this id. */
    async update(tx: Tx, userId: number, id: number, patch: ViewPatch): Promise<boolean> {
      const [own] = await tx<{ page: ViewPage }[]>`select page from saved_view where id = ${id} and user_id = ${userId} for update`
      if (!own) return false
      if (patch.name !== undefined) await checkName(tx, userId, own.page, patch.name, id)
      await tx`
        update saved_view set
          name = coalesce(${patch.name?.trim() ?? null}, name),
          query = coalesce(${patch.query ? tx.json(patch.query) : null}::jsonb, query),
          shared = coalesce(${patch.shared ?? null}::boolean, shared),
          updated_at = now()
        where id = ${id}`
      return true
    },

    /** Deletes the user's own view; false when they have none with this id. */
    async remove(tx: Tx, userId: number, id: number): Promise<boolean> {
      const rows = await tx`delete from saved_view where id = ${id} and user_id = ${userId} returning id`
      return rows.length > 0
    },
  }
}

export type ViewsRepository = ReturnType<typeof viewsRepository>

declare module 'fastify' {
  interface FastifyInstance {
    views: ViewsRepository
  }
}

export default fp(async (app) => {
  app.decorate('views', viewsRepository(app.db.sql))
}, { name: 'views', dependencies: ['db'] })
