import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import type { Jurisdiction } from '../../domain/access.js'
import { badRequest } from '../../lib/http-errors.js'
import { type FiguresCache, figuresCache } from './figures-cache.js'

type Described = Jurisdiction & { nameZh: string; nameEn: string }

/** A jurisdiction with its names, read now. */
async function describe(j: Jurisdiction, db: Sql | Tx): Promise<Described> {
  if (j.kind === 'district') {
    const [d] = await db<{ nameZh: string; nameEn: string }[]>`
      select name_zh, name_en from admin_area where level = 'district' and valid_to is null order by id limit 1`
    return { ...j, id: null, nameZh: d?.nameZh ?? '全区', nameEn: d?.nameEn ?? 'Whole district' }
  }
  const [row] = j.kind === 'town'
    ? await db<{ nameZh: string; nameEn: string }[]>`select name_zh, name_en from admin_area where id = ${j.id!}`
    : await db<{ nameZh: string; nameEn: string }[]>`select name_zh, name_en from police_station where id = ${j.id!}`
  return { ...j, nameZh: row?.nameZh ?? '?', nameEn: row?.nameEn ?? '?' }
}

/**
 * Names of jurisdictions, and checks that a jurisdiction given by an administrator exists. With a
 * cache, names are kept under the last change of the figures' data everywhere, which any change to
 * the areas or the police stations is (figures_change): `me`, asked on every page, then costs no
 * query, also after an inspector's write.
 */
export function jurisdictionsRepository(sql: Sql, opts: { cache?: FiguresCache } = {}) {
  return {
    async describe(j: Jurisdiction, db: Sql | Tx = sql): Promise<Described> {
      if (opts.cache && db === sql) return { ...await opts.cache.get(`${j.kind}|${j.id}`, () => describe(j, sql), opts.cache.inTowns([])) }
      return describe(j, db)
    },

    /** The jurisdiction as given, checked: a current town or police station must exist. */
    async validate(input: { kind: Jurisdiction['kind']; id?: number | null }, db: Sql | Tx = sql): Promise<Jurisdiction> {
      if (input.kind === 'district') {
        if (input.id) throw badRequest('a district-wide jurisdiction takes no id', '全区范围不需要编号')
        return { kind: 'district', id: null }
      }
      if (!input.id) throw badRequest(`a ${input.kind === 'town' ? 'town/street' : 'police-station'} jurisdiction needs the id of the ${input.kind === 'town' ? 'town or street' : 'police station'}`, `请选择${input.kind === 'town' ? '镇（街道）' : '派出所'}`)
      const [row] = input.kind === 'town'
        ? await db`select id from admin_area where id = ${input.id} and level = 'town' and valid_to is null`
        : await db`select id from police_station where id = ${input.id} and valid_to is null`
      if (!row) throw badRequest(`there is no current ${input.kind === 'town' ? 'town or street' : 'police station'} with id ${input.id}`, `没有编号为 ${input.id} 的现行${input.kind === 'town' ? '镇（街道）' : '派出所'}`)
      return { kind: input.kind, id: input.id }
    },
  }
}

export type JurisdictionsRepository = ReturnType<typeof jurisdictionsRepository>

declare module 'fastify' {
  interface FastifyInstance {
    jurisdictions: JurisdictionsRepository
  }
}

export default fp(async (app) => {
  app.decorate('jurisdictions', jurisdictionsRepository(app.db.sql, { cache: figuresCache(app.versions, 200) }))
}, { name: 'jurisdictions', dependencies: ['db', 'versions'] })
