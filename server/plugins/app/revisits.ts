import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { RevisitOutcome } from '../../domain/lists.js'
import { HttpError, notFound } from '../../lib/http-errors.js'
import type { RevisitItemDto } from '../../schemas/revisits.js'

/**
 * Revisits (明察暗访): a reproducible random sample of rectified hazards or registered group
 * rentals of a jurisdiction, re-inspected; a relapse reopens the hazard (its history kept: the
 * earlier steps stay, the reopening is a step of its own), and the relapse rate by town and by
 * the department that rectified it. The draw orders the population by a hash of the seed and each
 * record's id: the same seed over the same records draws the same sample, on any server.
 */
interface SampleSummary {
  id: number
  subject: 'hazard' | 'premises'
  townId: number | null
  townNameZh: string | null
  townNameEn: string | null
  proportion: number | null
  seed: string
  size: number
  population: number
  drawnOn: string
  drawn: number
  recorded: number
}

interface Rate { drawn: number; revisited: number; relapsed: number; recordWrong: number; relapseRate: number | null }

export function revisitsRepository(sql: Sql) {
  const itemSelect = (db: Sql | Tx) => db`
    select i.id, i.hazard_id, i.premises_id, p.address, i.town_id, i.department_code, i.outcome, i.note
    from revisit_item i join premises p on p.id = i.premises_id`

  return {
    async draw(tx: Tx, scope: Jurisdiction, byId: number, input: { subject: 'hazard' | 'premises'; townId?: number; proportion?: number; size?: number; seed: string }, today: string) {
      const s = tx as unknown as Sql
      if ((input.proportion === undefined) === (input.size === undefined)) {
        throw new HttpError(400, 'give either a proportion or a size of the sample', 'proportion-or-size', '请给出抽样比例或抽样数量（二选一）')
      }
      if (input.townId !== undefined) {
        const [t] = await tx`select 1 from admin_area a where a.id = ${input.townId} and a.level = 'town'
          and exists (select 1 from premises p where p.town_id = a.id and ${inJurisdiction(s, scope)})`
        if (!t) throw notFound(`there is no town/street with id ${input.townId} in your jurisdiction`, `您的辖区内没有编号为 ${input.townId} 的镇（街道）`)
      }
      const town = input.townId === undefined ? tx`` : tx`and p.town_id = ${input.townId}`
      const population = input.subject === 'hazard'
        ? tx`select h.id as hazard_id, p.id as premises_id, p.town_id, p.police_station_id, h.department_code, h.id as key
             from hazard h join premises p on p.id = h.premises_id
             where h.status in ('rectified', 'verified') and ${inJurisdiction(s, scope)} ${town}`
        : tx`select null::bigint as hazard_id, p.id as premises_id, p.town_id, p.police_station_id, null::text as department_code, p.id as key
             from premises p
             where p.kind = 'group_rental' and p.registered_on is not null and p.deregistered_on is null and ${inJurisdiction(s, scope)} ${town}`
      const [n] = await tx<{ n: number }[]>`select count(*)::int as n from (${population}) q`
      const size = input.size ?? Math.ceil(input.proportion! * n!.n)
      if (size > n!.n || size === 0) {
        throw new HttpError(400, `the sample (${size}) is larger than the population it is drawn from (${n!.n})`, 'sample-larger-than-population', `抽样数量（${size}）超过可抽取的总数（${n!.n}）`)
      }
      const [sample] = await tx<{ id: number }[]>`
        insert into revisit_sample (campaign_id, subject, town_id, proportion, size, population, seed, drawn_on, drawn_by)
        values ((select id from campaign order by starts_on desc limit 1), ${input.subject}, ${input.townId ?? null}, ${input.proportion ?? null}, ${size}, ${n!.n}, ${input.seed}, ${today}, ${byId})
        returning id`
      await tx`
        insert into revisit_item (sample_id, hazard_id, premises_id, town_id, police_station_id, department_code)
        select ${sample!.id}, hazard_id, premises_id, town_id, police_station_id, department_code
        from (${population}) q order by md5(${input.seed} || ':' || q.key::text), q.key limit ${size}`
      return this.get(tx, scope, sample!.id)
    },

    /**
     * The samples holding records of the jurisdiction, the latest first, each with how many of
     * those records were drawn and how many have their outcome recorded.
     */
    async list(scope: Jurisdiction, limit: number) {
      const rows = await sql<SampleSummary[]>`
        select s.id, s.subject, s.town_id, t.name_zh as town_name_zh, t.name_en as town_name_en, s.proportion::float8 as proportion,
               s.seed, s.size, s.population, s.drawn_on, count(i.id)::int as drawn, count(i.outcome)::int as recorded
        from revisit_sample s
        join revisit_item i on i.sample_id = s.id and ${inJurisdiction(sql, scope, 'i')}
        left join admin_area t on t.id = s.town_id
        group by s.id, t.id
        order by s.id desc
        limit ${limit}`
      return [...rows]
    },

    async get(db: Sql | Tx, scope: Jurisdiction, id: number) {
      const [sample] = await db<{ id: number; subject: string; townId: number | null; seed: string; size: number; population: number; drawnOn: string }[]>`
        select id, subject, town_id, seed, size, population, drawn_on from revisit_sample where id = ${id}`
      if (!sample) throw notFound(`there is no revisit sample with id ${id}`, `没有编号为 ${id} 的抽查批次`)
      const items = await db<RevisitItemDto[]>`${itemSelect(db)} where i.sample_id = ${id} and ${inJurisdiction(db as unknown as Sql, scope, 'i')} order by i.id`
      // A sample drawn elsewhere, none of whose records lie in the jurisdiction, does not exist for the reader.
      if (!items.length) throw notFound(`there is no revisit sample with id ${id}`, `没有编号为 ${id} 的抽查批次`)
      return { ...sample, items: [...items] }
    },

    /** Records what a revisit found; a relapse reopens the hazard with an event saying why. */
    async outcome(tx: Tx, scope: Jurisdiction, byId: number, id: number, outcome: RevisitOutcome, note: string | null) {
      const [item] = await tx<{ id: number; hazardId: number | null; outcome: string | null }[]>`
        select i.id, i.hazard_id, i.outcome from revisit_item i where i.id = ${id} and ${inJurisdiction(tx as unknown as Sql, scope, 'i')} for update`
      if (!item) throw notFound(`there is no revisit with id ${id}`, `没有编号为 ${id} 的抽查记录`)
      if (item.outcome) throw new HttpError(409, `this revisit's outcome is recorded already (${item.outcome})`, 'outcome-recorded', `该抽查结果已登记（${item.outcome}）`)
      if (outcome === 'relapsed' && item.hazardId === null) {
        throw new HttpError(400, 'a registered group rental does not relapse: say the record is wrong, or still as recorded', 'relapse-needs-hazard', '群租房登记抽查不适用“复发”：请选择“记录不实”或“属实”')
      }
      if (outcome === 'relapsed') {
        const [h] = await tx<{ status: string }[]>`
          update hazard set status = case when referred_at is null then 'found' else 'referred' end, rectified_at = null, verified_at = null, updated_at = now()
          where id = ${item.hazardId!} and status in ('rectified', 'verified')
          returning status`
        if (h) {
          await tx`insert into hazard_event (hazard_id, status, at, user_id, note)
                   values (${item.hazardId!}, ${h.status}, now(), ${byId}, ${`明察暗访复发（抽查 #${id}）${note ? `：${note}` : ''}`})`
        }
      }
      await tx`update revisit_item set outcome = ${outcome}, note = ${note}, outcome_by = ${byId}, outcome_at = now() where id = ${id}`
      const [after] = await tx<RevisitItemDto[]>`${itemSelect(tx)} where i.id = ${id}`
      return after!
    },

    /** Relapses per town and per department, over the revisits of the jurisdiction. */
    async rates(scope: Jurisdiction) {
      const rate = sql`count(*)::int as drawn, count(i.outcome)::int as revisited, count(*) filter (where i.outcome = 'relapsed')::int as relapsed,
        count(*) filter (where i.outcome = 'record_wrong')::int as record_wrong,
        case when count(i.outcome) filter (where i.hazard_id is not null) = 0 then null
             else (count(*) filter (where i.outcome = 'relapsed'))::float8 / count(i.outcome) filter (where i.hazard_id is not null) end as relapse_rate`
      const towns = await sql<(Rate & { id: number; nameZh: string; nameEn: string })[]>`
        select a.id, a.name_zh, a.name_en, ${rate} from revisit_item i join admin_area a on a.id = i.town_id
        where ${inJurisdiction(sql, scope, 'i')} group by a.id order by a.id`
      const departments = await sql<(Rate & { code: string; nameZh: string; nameEn: string })[]>`
        select d.code, d.name_zh, d.name_en, ${rate} from revisit_item i join department d on d.code = i.department_code
        where ${inJurisdiction(sql, scope, 'i')} group by d.code order by d.code`
      return { towns: [...towns], departments: [...departments] }
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    revisits: ReturnType<typeof revisitsRepository>
  }
}

export default fp(async (app) => {
  app.decorate('revisits', revisitsRepository(app.db.sql))
}, { name: 'revisits', dependencies: ['db'] })
