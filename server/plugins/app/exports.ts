import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { ExportColumn, ExportRow } from '../../domain/exports.js'
import { maskPersonalText } from '../../domain/redact.js'
import { endOfDay, localDateTime } from '../../domain/calendar.js'
import { type PremisesFilter, premisesWhere, statusSql } from './premises.js'

/**
 * Premises and hazards as the map's Export menu downloads them, with the map's filters, for the
 * user's jurisdiction. Owners' and second landlords' names and phones are selected only for roles
 * that may see people; for the others, ID and phone numbers typed into free text (addresses,
 * hazard descriptions) are masked. Rows are read in pages by id, so that a district-wide export is
 * streamed (domain/exports.ts) rather than held in memory.
 */

/** Rows per page. */
export const exportPage = 5000

const premisesColumns: ExportColumn[] = [
  { key: 'id', header: '编号 id', width: 10 }, { key: 'kind', header: '类型 kind', width: 16 }, { key: 'address', header: '地址 address', width: 36 },
  { key: 'town', header: '镇（街道） town', width: 14 }, { key: 'community', header: '社区（村） community', width: 16 },
  { key: 'policeStation', header: '派出所 police station', width: 14 }, { key: 'lon', header: '经度 lon (WGS-84)' }, { key: 'lat', header: '纬度 lat (WGS-84)' },
  { key: 'roomsLet', header: '出租间数 rooms' }, { key: 'bedsLet', header: '床位 beds' }, { key: 'occupants', header: '居住人数 occupants' },
  { key: 'meetsRule', header: '符合群租标准 meets rule' }, { key: 'status', header: '隐患状态 status', width: 14 },
  { key: 'hazardCount', header: '隐患数 hazards' }, { key: 'openCount', header: '未整改 open' }, { key: 'openMajorCount', header: '重大未整改 open major' },
  { key: 'foundOn', header: '发现日期 found' }, { key: 'registeredOn', header: '登记日期 registered' }, { key: 'deregisteredOn', header: '注销日期 deregistered' },
  { key: 'statementSignedOn', header: '签订责任书 statement signed' }, { key: 'leaseFiledOn', header: '租赁备案 lease filed' },
  { key: 'externalRef', header: '台账编号 ledger ref', width: 14 },
]
const peopleColumns: ExportColumn[] = [
  { key: 'ownerName', header: '出租人 owner', width: 12 }, { key: 'ownerPhone', header: '出租人电话 owner phone', width: 14 },
  { key: 'secondLandlordName', header: '二房东 second landlord', width: 12 }, { key: 'secondLandlordPhone', header: '二房东电话 phone', width: 14 },
]
const hazardColumns: ExportColumn[] = [
  { key: 'id', header: '隐患编号 id', width: 10 }, { key: 'premisesId', header: '场所编号 premises', width: 10 }, { key: 'address', header: '地址 address', width: 36 },
  { key: 'town', header: '镇（街道） town', width: 14 }, { key: 'policeStation', header: '派出所 police station', width: 14 },
  { key: 'itemCode', header: '字典项 item', width: 10 }, { key: 'itemName', header: '隐患内容 hazard', width: 40 }, { key: 'otherText', header: '其他说明 text', width: 24 },
  { key: 'category', header: '类别 category', width: 10 }, { key: 'severity', header: '等级 severity', width: 10 }, { key: 'status', header: '状态 status', width: 10 },
  { key: 'department', header: '责任部门 department', width: 18 }, { key: 'foundAt', header: '发现时间 found', width: 20 },
  { key: 'referredAt', header: '交办时间 referred', width: 20 }, { key: 'rectifiedAt', header: '整改时间 rectified', width: 20 },
  { key: 'verifiedAt', header: '验收时间 verified', width: 20 }, { key: 'deadline', header: '整改期限 deadline', width: 12 },
  { key: 'overdue', header: '逾期 overdue' }, { key: 'lon', header: '经度 lon (WGS-84)' }, { key: 'lat', header: '纬度 lat (WGS-84)' },
]

const kindZh: Record<string, string> = { group_rental: '群租房', rental: '出租房屋', homestay: '民宿', family_hotel: '家庭旅馆', factory_dormitory: '厂企集中宿舍', care_home: '养老院/福利院' }
/** Free text as a role reads it: as typed for those who see people, numbers masked for the rest. */
const textFor = (people: boolean, v: unknown) => (people || typeof v !== 'string' ? v : maskPersonalText(v))
const localTime = (d: Date | null) => (d ? localDateTime(d) : null)

/** Pages of rows by id: `fetch(after)` returns the next page after an id. */
async function* pages(fetch: (after: number) => Promise<ExportRow[]>): AsyncGenerator<ExportRow[]> {
  let after = 0
  for (;;) {
    const rows = await fetch(after)
    if (!rows.length) return
    yield rows
    if (rows.length < exportPage) return
    after = rows[rows.length - 1]!.id
  }
}

/** What an export writes: its columns, and its rows a page at a time. */
export interface ExportSource {
  columns: ExportColumn[]
  pages: AsyncGenerator<ExportRow[]>
}

export function exportsRepository(sql: Sql) {
  return {
    /** The premises the filter selects, with their hazard status on a day. */
    premises(scope: Jurisdiction, filter: PremisesFilter, on: string, people: boolean, db: Sql | Tx = sql): ExportSource {
      const where = premisesWhere(db, filter, on, scope)
      return {
        columns: people ? [...premisesColumns, ...peopleColumns] : premisesColumns,
        pages: pages(async after => (await db<ExportRow[]>`
          select p.id, p.kind, p.address, t.name_zh as town, c.name_zh as community, s.name_zh as police_station,
                 round(st_x(p.geom)::numeric, 7)::float8 as lon, round(st_y(p.geom)::numeric, 7)::float8 as lat,
                 p.rooms_let, p.beds_let, p.occupants, p.meets_rule, ${statusSql(db, on)} as status,
                 p.hazard_count, p.open_count, p.open_major_count, p.found_on, p.registered_on, p.deregistered_on,
                 p.statement_signed_on, p.lease_filed_on, p.external_ref
                 ${people ? db`, p.owner_name, p.owner_phone, p.second_landlord_name, p.second_landlord_phone` : db``}
          from premises p
          join admin_area t on t.id = p.town_id
          left join admin_area c on c.id = p.community_id
          left join police_station s on s.id = p.police_station_id
          where p.id > ${after} and ${where}
          order by p.id limit ${exportPage}`).map(r => ({ ...r, kind: kindZh[r.kind as string] ?? r.kind, address: textFor(people, r.address) }))),
      }
    },

    /** The hazards found up to a day, of the premises the filter selects, with their status on that day. */
    hazards(scope: Jurisdiction, filter: PremisesFilter, on: string, people: boolean, db: Sql | Tx = sql): ExportSource {
      const until = endOfDay(on)
      const where = premisesWhere(db, filter, on, scope)
      const categories = filter.categories?.length ? db`and i.category_code in ${db(filter.categories)}` : db``
      return {
        columns: hazardColumns,
        pages: pages(async after => (await db<ExportRow[]>`
          select h.id, h.premises_id, p.address, t.name_zh as town, s.name_zh as police_station,
                 h.item_code, i.name_zh as item_name, h.other_text, c.name_zh as category,
                 case h.severity when 'major' then '重大' else '一般' end as severity,
                 case when h.verified_at < ${until} then '已验收' when h.rectified_at < ${until} then '已整改'
                      when h.referred_at < ${until} then '已交办' else '已排查' end as status,
                 d.name_zh as department, h.found_at, h.referred_at, h.rectified_at, h.verified_at, h.deadline,
                 (h.deadline < ${on} and (h.rectified_at is null or h.rectified_at >= ${until})) as overdue,
                 round(st_x(p.geom)::numeric, 7)::float8 as lon, round(st_y(p.geom)::numeric, 7)::float8 as lat
          from hazard h
          join premises p on p.id = h.premises_id
          join hazard_item i on i.code = h.item_code
          join hazard_category c on c.code = i.category_code
          join department d on d.code = h.department_code
          join admin_area t on t.id = p.town_id
          left join police_station s on s.id = p.police_station_id
          where h.id > ${after} and h.found_at < ${until} and ${where} ${categories}
          order by h.id limit ${exportPage}`).map(r => ({
          ...r,
          address: textFor(people, r.address), otherText: textFor(people, r.otherText),
          foundAt: localTime(r.foundAt as Date), referredAt: localTime(r.referredAt as Date | null),
          rectifiedAt: localTime(r.rectifiedAt as Date | null), verifiedAt: localTime(r.verifiedAt as Date | null),
        }))),
      }
    },
  }
}

export type ExportsRepository = ReturnType<typeof exportsRepository>

declare module 'fastify' {
  interface FastifyInstance {
    exports: ExportsRepository
  }
}

export default fp(async (app) => {
  app.decorate('exports', exportsRepository(app.db.sql))
}, { name: 'exports', dependencies: ['db'] })
