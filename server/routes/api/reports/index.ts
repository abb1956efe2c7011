import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { can, type Jurisdiction } from '../../../domain/access.js'
import { reportDates } from '../../../domain/periods.js'
import { maskFreeText } from '../../../domain/redact.js'
import { exportTypes } from '../../../domain/exports.js'
import { badRequest, parseDate } from '../../../lib/http-errors.js'
import type { Campaign } from '../../../plugins/app/campaign.js'
import type { ReportTable } from '../../../plugins/app/reports.js'
import { reportWorkbook } from '../../../domain/report-xlsx.js'
import { errors, Id } from '../../../schemas/common.js'
import { Attachment3Query, PeriodQuery, ReportTableSchema, SubmissionList, SubmitBody } from '../../../schemas/reports.js'

/** The biweekly tables (attachments 3, 4, 5 of the notice) on screen, as spreadsheets, and submitted. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  /**
   * Tables as the user may read them: key area names and the filled-by and reviewed-by lines are
   * typed by hand, so ID and phone numbers in them are masked for roles that do not see people.
   */
  const forReader = <T>(req: FastifyRequest, value: T): T => (can(app.userOf(req).role, 'people:read') ? value : maskFreeText(value))

  async function periodOf(campaign: Campaign, period: string | undefined) {
    if (period) return parseDate(period, 'period')
    return app.reports.latestReportDay(campaign, app.campaign.referenceDate(campaign))
  }
  const reportDaysUpToNow = (campaign: Campaign) =>
    reportDates(campaign.startsOn, campaign.endsOn, campaign.reportDays).filter(d => d <= app.campaign.referenceDate(campaign))

  async function sendXlsx(reply: FastifyReply, name: string, tables: ReportTable[]) {
    reply.type(exportTypes.xlsx).header('Content-Disposition', `attachment; filename="${name}.xlsx"`)
    return reply.send(await reportWorkbook(tables))
  }
  async function send(reply: FastifyReply, format: 'json' | 'xlsx', name: string, tables: ReportTable[], campaign: Campaign) {
    if (format === 'xlsx') return sendXlsx(reply, name, tables)
    return { ...tables[0]!, reportDays: reportDaysUpToNow(campaign) }
  }

  function townOf(scope: Jurisdiction, town: number | undefined): number {
    if (town !== undefined) return town
    if (scope.kind === 'town') return scope.id!
    throw badRequest('say which town or street (town=id)', '请选择镇（街道）')
  }

  app.get('/attachment-5', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['reports'],
      summary: 'Attachment 5: the district table, a period row and a cumulative row per police station, and the total',
      querystring: PeriodQuery,
      response: { 200: ReportTableSchema, ...errors(400) },
    },
  }, async (req, reply) => {
    const campaign = await app.campaign.current()
    const day = await periodOf(campaign, req.query.period)
    const t = await app.reports.table('attachment-5', campaign, day, app.userOf(req).jurisdiction)
    return send(reply, req.query.format, `attachment-5-${day}`, [forReader(req, t)], campaign)
  })

  app.get('/attachment-4', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['reports'],
      summary: 'Attachment 4 for every key area of the jurisdiction: xlsx gives a workbook with a sheet per key area',
      querystring: PeriodQuery,
      response: { 200: Type.Object({ tables: Type.Array(ReportTableSchema), reportDays: Type.Array(Type.String()) }), ...errors(400) },
    },
  }, async (req, reply) => {
    const campaign = await app.campaign.current()
    const day = await periodOf(campaign, req.query.period)
    const tables = forReader(req, await app.reports.allAttachment4(campaign, day, app.userOf(req).jurisdiction))
    if (req.query.format === 'xlsx') {
      return sendXlsx(reply, `attachment-4-${day}`, tables)
    }
    return { tables, reportDays: reportDaysUpToNow(campaign) }
  })

  app.get('/attachment-4/:keyAreaId', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['reports'],
      summary: 'Attachment 4: one key area\'s table, the period row and the cumulative row',
      params: Type.Object({ keyAreaId: Id() }),
      querystring: PeriodQuery,
      response: { 200: ReportTableSchema, ...errors(400, 404) },
    },
  }, async (req, reply) => {
    const campaign = await app.campaign.current()
    const day = await periodOf(campaign, req.query.period)
    const t = await app.reports.table('attachment-4', campaign, day, app.userOf(req).jurisdiction, req.params.keyAreaId)
    return send(reply, req.query.format, `attachment-4-${req.params.keyAreaId}-${day}`, [forReader(req, t)], campaign)
  })

  app.get('/attachment-3', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['reports'],
      summary: 'Attachment 3: the key areas of a town or street, with their houses, group rentals and population',
      querystring: Attachment3Query,
      response: { 200: ReportTableSchema, ...errors(400, 403, 404) },
    },
  }, async (req, reply) => {
    const campaign = await app.campaign.current()
    const scope = app.userOf(req).jurisdiction
    const day = req.query.on ? parseDate(req.query.on, 'on') : app.campaign.referenceDate(campaign)
    if (day < campaign.startsOn) throw badRequest(`${day} is before the campaign began (${campaign.startsOn})`, `${day} 早于整治开始日期（${campaign.startsOn}）`)
    const town = townOf(scope, req.query.town)
    const t = await app.reports.table('attachment-3', campaign, day, scope, town)
    return send(reply, req.query.format, `attachment-3-${town}-${day}`, [forReader(req, t)], campaign)
  })

  app.get('/submissions', {
    config: { permission: 'stats:read' },
    schema: { tags: ['reports'], summary: 'Tables submitted so far, newest first', response: { 200: SubmissionList } },
  }, async req => forReader(req, await app.reports.submissions(app.userOf(req).jurisdiction)))

  app.post('/submissions', {
    config: { permission: 'reports:submit' },
    schema: {
      tags: ['reports'],
      summary: 'Submit a table: its figures are frozen as they stand now; a table is submitted once',
      body: SubmitBody,
      response: { 201: ReportTableSchema, ...errors(400, 403, 404, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const campaign = await app.campaign.current()
    const b = req.body
    const day = parseDate(b.period, 'period')
    if (b.report === 'attachment-4' && !b.keyAreaId) throw badRequest('say which key area (keyAreaId)', '请选择重点地区')
    const subject = b.report === 'attachment-4' ? b.keyAreaId : b.report === 'attachment-3' ? townOf(user.jurisdiction, b.townId) : undefined
    await app.writeTx(req, async (tx) => {
      const t = await app.reports.submit(tx, b.report, campaign, day, user.jurisdiction, user.id, b, subject)
      await app.audit.record(tx, req, {
        action: 'report.submit', entity: 'report', entityId: `${b.report}/${t.subject}/${day}`,
        after: { filledBy: b.filledBy, reviewedBy: b.reviewedBy ?? null },
      })
    })
    reply.code(201)
    return app.reports.table(b.report, campaign, day, user.jurisdiction, subject)
  })
}
export default routes
