import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { addDays, localDateTime, today as todayInDistrict } from '../../../domain/calendar.js'
import { exportTypes, toXlsx } from '../../../domain/exports.js'
import { escalationRuleProblem } from '../../../domain/supervision.js'
import { badRequest, HttpError, parseDate } from '../../../lib/http-errors.js'
import { IdParams } from '../../../schemas/access.js'
import { errors, FileAnswer } from '../../../schemas/common.js'
import {
  AccountabilitySchema, EscalationRulesSchema, SupervisionCloseSchema, SupervisionCreateSchema, SupervisionDetailSchema, SupervisionItemSchema, SupervisionListQuery,
} from '../../../schemas/supervision.js'

/** How far ahead a deadline may be set: a campaign's year. */
const maxDaysAhead = 366

const kindZh = { hazard: '重大隐患', premises: '房屋', key_area: '重点地区' } as const
const levelZh = { district: '区级', town: '镇（街道）级' } as const

/**
 * Supervision (挂牌督办): the list and board of a jurisdiction, listing and closing with evidence,
 * the 督办通报 workbook of what is overdue, and the campaign's escalation rules. The day's
 * escalation runs in the server (server/plugins/app/supervision.ts), not through a route.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/items', {
    config: { permission: 'supervision:read' },
    schema: {
      tags: ['supervision'], summary: 'Supervision items of my jurisdiction: open ones first, by deadline (overdue=true: only what is past its deadline)',
      querystring: SupervisionListQuery, response: { 200: Type.Array(SupervisionItemSchema), ...errors(400, 401, 403) },
    },
  }, async req => app.supervision.list(app.userOf(req).jurisdiction, req.query, todayInDistrict()))

  app.get('/items/:id', {
    config: { permission: 'supervision:read' },
    schema: { tags: ['supervision'], summary: 'One supervision item with the escalation levels it reached', params: IdParams, response: { 200: SupervisionDetailSchema, ...errors(401, 403, 404) } },
  }, async req => app.supervision.get(app.userOf(req).jurisdiction, req.params.id, todayInDistrict()))

  app.post('/items', {
    config: { permission: 'supervision:list' },
    schema: {
      tags: ['supervision'], summary: 'List a major hazard, a premises or a key area of my jurisdiction for supervision, with the unit and person responsible and a deadline',
      body: SupervisionCreateSchema, response: { 201: SupervisionItemSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const today = todayInDistrict()
    const body = req.body
    const deadline = parseDate(body.deadline, 'deadline')
    if (deadline < today) throw new HttpError(400, `the deadline (${deadline}) has passed: it must be today (${today}) or later`, 'deadline-passed', `期限（${deadline}）已过：须为今天（${today}）或以后`)
    if (deadline > addDays(today, maxDaysAhead)) throw new HttpError(400, `the deadline (${deadline}) is more than ${maxDaysAhead} days ahead`, 'deadline-too-far', `期限（${deadline}）超过 ${maxDaysAhead} 天之后`)
    const named = { hazard: body.hazardId, premises: body.premisesId, key_area: body.keyAreaId }
    const given = Object.entries(named).filter(([, v]) => v !== undefined).map(([k]) => k)
    if (given.length !== 1 || given[0] !== body.kind) {
      throw new HttpError(400, `name exactly the ${body.kind} being listed (${body.kind === 'key_area' ? 'keyAreaId' : `${body.kind}Id`}) and nothing else`, 'subject-mismatch', `请只给出所督办的${kindZh[body.kind]}编号`)
    }
    const person = body.responsiblePerson.trim()
    const reason = body.reason.trim()
    if (!person || !reason) throw badRequest('say who is responsible and why it is listed', '请填写责任人和督办事由')
    // A town's (or police station's) user supervises at the town's level; the district's at either.
    const supervisingLevel = body.supervisingLevel ?? (user.jurisdiction.kind === 'district' ? 'district' : 'town')
    if (supervisingLevel === 'district' && user.jurisdiction.kind !== 'district') {
      throw new HttpError(403, 'only a district-wide user lists an item at the district\'s level', 'level-above-jurisdiction', '只有全区范围的用户可以区级挂牌督办')
    }
    const input = { ...body, deadline, responsiblePerson: person, reason, responsibleUserId: body.responsibleUserId ?? null, supervisingLevel }
    const item = await app.writeTx(req, async (tx) => {
      const created = await app.supervision.create(tx, user.jurisdiction, user.id, input, today)
      await app.audit.record(tx, req, { action: 'supervision.create', entity: 'supervision-item', entityId: created.id, after: created })
      return created
    })
    reply.code(201)
    return item
  })

  app.post('/items/:id/close', {
    config: { permission: 'supervision:write' },
    schema: {
      tags: ['supervision'], summary: 'Close (销号) an item with its evidence: the work is done and photos of the subject show it',
      params: IdParams, body: SupervisionCloseSchema, response: { 200: SupervisionItemSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    const today = todayInDistrict()
    const note = req.body.note.trim()
    if (note.length < 4) throw new HttpError(400, 'say in the note what was done (at least 4 characters)', 'evidence-note-required', '请在说明中写明整改情况（至少 4 个字）')
    const { after } = await app.writeTx(req, async (tx) => {
      const change = await app.supervision.close(tx, user.jurisdiction, user.id, req.params.id, { note, photoIds: req.body.photoIds }, today)
      await app.audit.record(tx, req, { action: 'supervision.close', entity: 'supervision-item', entityId: req.params.id, before: change.before, after: change.after, reason: note })
      return change
    })
    return after
  })

  app.get('/notice.xlsx', {
    config: { permission: 'supervision:read' },
    schema: {
      tags: ['supervision'], summary: 'The 督办通报 of my jurisdiction: every open item past its deadline, the most overdue first, as a workbook',
      response: { 200: FileAnswer('The workbook', [exportTypes.xlsx]), ...errors(401, 403) },
    },
  }, async (req, reply) => {
    const today = todayInDistrict()
    const rows = (await app.supervision.list(app.userOf(req).jurisdiction, { state: 'open', overdue: true, limit: 5000 }, today))
      .sort((a, b) => b.daysOverdue - a.daysOverdue || a.id - b.id)
    const columns = [
      { key: 'n', header: '序号', width: 6 }, { key: 'kind', header: '类别', width: 10 }, { key: 'subject', header: '督办对象', width: 34 },
      { key: 'town', header: '镇（街道）', width: 12 }, { key: 'unit', header: '责任单位', width: 16 }, { key: 'person', header: '责任人', width: 14 },
      { key: 'supervisingLevel', header: '督办层级', width: 10 }, { key: 'deadline', header: '整改期限', width: 12 }, { key: 'daysOverdue', header: '超期天数', width: 10 }, { key: 'level', header: '升级层级', width: 10 },
      { key: 'reason', header: '督办事由', width: 34 },
    ]
    const data = rows.map((r, i) => ({
      n: i + 1, kind: kindZh[r.kind], subject: r.subject, town: r.town.nameZh, unit: r.unit.nameZh, person: r.responsiblePerson,
      supervisingLevel: levelZh[r.supervisingLevel], deadline: r.deadline, daysOverdue: r.daysOverdue, level: r.level, reason: r.reason,
    }))
    await app.audit.record(app.db.sql, req, { action: 'supervision.notice', entity: 'supervision-notice', after: { rows: data.length, day: today } })
    reply.type(exportTypes.xlsx).header('Content-Disposition', `attachment; filename="supervision-notice-${today}.xlsx"`)
    return reply.send(await toXlsx(`督办通报（${today}）`, columns, data, `截至 ${localDateTime(Date.now())}，超过整改期限仍未销号的督办事项共 ${data.length} 项`))
  })

  app.get('/accountability', {
    config: { permission: 'supervision:read' },
    schema: {
      tags: ['supervision'], summary: 'Each responsible unit\'s record (倒查追究, 考核): listed, open, overdue, closed on time or late, escalated; worst first',
      response: { 200: AccountabilitySchema, ...errors(401, 403) },
    },
  }, async (req) => {
    const day = todayInDistrict()
    return { day, units: await app.supervision.accountability(app.userOf(req).jurisdiction, day) }
  })

  app.get('/accountability.xlsx', {
    config: { permission: 'supervision:read' },
    schema: { tags: ['supervision'], summary: 'The units\' record as a workbook for the annual assessment (考核)', response: { 200: FileAnswer('The workbook', [exportTypes.xlsx]), ...errors(401, 403) } },
  }, async (req, reply) => {
    const day = todayInDistrict()
    const units = await app.supervision.accountability(app.userOf(req).jurisdiction, day)
    const columns = [
      { key: 'n', header: '序号', width: 6 }, { key: 'kind', header: '类别', width: 10 }, { key: 'name', header: '责任单位', width: 22 },
      { key: 'listed', header: '督办事项', width: 10 }, { key: 'open', header: '未销号', width: 10 }, { key: 'overdue', header: '超期未销号', width: 12 },
      { key: 'closedOnTime', header: '按期销号', width: 10 }, { key: 'closedLate', header: '超期销号', width: 10 }, { key: 'escalated', header: '被升级', width: 10 },
      { key: 'rate', header: '按期销号率', width: 12 },
    ]
    const data = units.map((u, i) => ({ ...u, n: i + 1, kind: u.kind === 'department' ? '部门' : '镇（街道）', name: u.nameZh, rate: u.onTimeRate === null ? '—' : `${(u.onTimeRate * 100).toFixed(1)}%` }))
    await app.audit.record(app.db.sql, req, { action: 'supervision.accountability', entity: 'supervision-accountability', after: { rows: data.length, day } })
    reply.type(exportTypes.xlsx).header('Content-Disposition', `attachment; filename="accountability-${day}.xlsx"`)
    return reply.send(await toXlsx(`督办考核（${day}）`, columns, data, `截至 ${day}，各责任单位督办事项办理情况（按期销号率由低到高）`))
  })

  app.get('/rules', {
    config: { permission: 'supervision:read' },
    schema: { tags: ['supervision'], summary: 'The campaign\'s escalation rules, from level 0 (listed) up', response: { 200: EscalationRulesSchema, ...errors(401, 403) } },
  }, async () => ({ rules: await app.supervision.rules() }))

  app.put('/rules', {
    config: { permission: 'campaign:admin' },
    schema: {
      tags: ['supervision'], summary: 'Replace the campaign\'s escalation rules: one chain up from level 0, no loops, no negative days, each level later than the one before',
      body: EscalationRulesSchema, response: { 200: EscalationRulesSchema, ...errors(400, 401, 403) },
    },
  }, async (req) => {
    const rules = req.body.rules
    const problem = escalationRuleProblem(rules)
    if (problem) throw new HttpError(400, problem.message, problem.code, problem.messageZh)
    await app.writeTx(req, async (tx) => {
      const before = await app.supervision.rules(tx)
      await app.supervision.setRules(tx, rules)
      await app.audit.record(tx, req, { action: 'supervision.rules', entity: 'escalation-rules', before, after: rules })
    })
    return { rules: await app.supervision.rules() }
  })
}
export default routes
