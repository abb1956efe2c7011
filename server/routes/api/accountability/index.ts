import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { exportTypes, toXlsx } from '../../../domain/exports.js'
import { badRequest, parseDate } from '../../../lib/http-errors.js'
import { AccountabilityQuery, AccountabilitySchema } from '../../../schemas/accountability.js'
import { errors } from '../../../schemas/common.js'

const columns = [
  { key: 'unit', header: '责任单位' },
  { key: 'referred', header: '交办隐患（处）' },
  { key: 'major', header: '其中重大隐患（处）' },
  { key: 'rectifiedOnTime', header: '按期整改（处）' },
  { key: 'rectifiedLate', header: '逾期整改（处）' },
  { key: 'overdue', header: '逾期未整改（处）' },
  { key: 'openInTime', header: '期限内未整改（处）' },
  { key: 'onTime', header: '按期整改率' },
]

/** Accountability by unit: each department and town, what was referred to it and how it was dealt with. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['stats'],
      summary: 'Hazards referred to each responsible department and town up to a day: rectified on time, late, overdue, open (counts); as JSON or the XLSX for the assessment',
      querystring: AccountabilityQuery,
      // format=xlsx sends the workbook's bytes, which Fastify passes as they are.
      response: { 200: AccountabilitySchema, ...errors(400, 401, 403) },
    },
  }, async (req, reply) => {
    const campaign = await app.campaign.current()
    const asOf = req.query.asOf ? parseDate(req.query.asOf, 'asOf') : app.campaign.referenceDate(campaign)
    if (asOf < campaign.startsOn) throw badRequest(`asOf ${asOf} is before the campaign began (${campaign.startsOn})`, `${asOf} 早于整治开始日期（${campaign.startsOn}）`)
    const a = await app.accountability.figures(asOf, app.userOf(req).jurisdiction)
    if (req.query.format !== 'xlsx') return a
    const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`)
    const rows = [
      ...a.departments.map(d => ({ ...d, unit: d.nameZh, onTime: pct(d.onTimeRate) })),
      ...a.towns.map(t => ({ ...t, unit: t.nameZh, onTime: pct(t.onTimeRate) })),
    ]
    const body = await toXlsx(`责任单位隐患整改情况（截至 ${asOf}）`, columns, rows, '按期整改率 = 按期整改 ÷（按期整改 + 逾期整改 + 逾期未整改）；无整改期限的隐患不计逾期。前为责任部门，后为镇（街道）。')
    // The reply untyped: the body is the file, not the JSON the schema describes.
    const file: FastifyReply = reply
    return file.type(exportTypes.xlsx).header('Content-Disposition', `attachment; filename="accountability-${asOf}.xlsx"`).send(body)
  })
}
export default routes
