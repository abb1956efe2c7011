import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import ExcelJS from 'exceljs'
import { Type } from 'typebox'
import { ledgerFields } from '../../../domain/ledger.js'
import { exportTypes, toCsv, withoutFormulas } from '../../../domain/exports.js'
import { badRequest } from '../../../lib/http-errors.js'
import { errors, FileAnswer } from '../../../schemas/common.js'
import { CrsSchema, ImportJobSchema, LedgerKindSchema, RecentImportSchema } from '../../../schemas/imports.js'

const JobId = Type.Object({ id: Type.String({ format: 'uuid' }) })
const RunBody = Type.Object({
  mapping: Type.Record(Type.String(), Type.String(), { description: 'For each field key, the heading of the file\'s column that holds it' }),
  crs: CrsSchema,
}, { additionalProperties: false })

const fileTypes = ['application/octet-stream', 'text/csv', 'text/plain', 'application/vnd.ms-excel', exportTypes.xlsx.split(';')[0]!]

/** Ledger imports: templates, upload, dry run, commit, error report. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  // Uploads are the file itself as the request body (the page sends it with a progress bar).
  app.addContentTypeParser(fileTypes, { parseAs: 'buffer', bodyLimit: 512 * 1024 * 1024 }, (_req, body, done) => done(null, body))

  app.get('/templates/:kind', {
    config: { permission: 'import' },
    schema: {
      tags: ['imports'],
      summary: 'A ledger template: the headings, an example row and, in XLSX, how to fill it in (and the hazard dictionary)',
      params: Type.Object({ kind: LedgerKindSchema }),
      querystring: Type.Object({ format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')], { default: 'xlsx' }) }, { additionalProperties: false }),
      response: { 200: FileAnswer('The template, in the format asked for', [exportTypes.csv, exportTypes.xlsx]), ...errors(400, 401, 403) },
    },
  }, async (req, reply) => {
    const kind = req.params.kind
    const fields = ledgerFields[kind]
    const name = `template-${kind}`
    reply.header('Content-Disposition', `attachment; filename="${name}.${req.query.format}"`).type(exportTypes[req.query.format])
    if (req.query.format === 'csv') {
      return reply.send(toCsv(fields.map(f => ({ key: f.key, header: f.zh })), [Object.fromEntries(fields.map(f => [f.key, f.example]))]))
    }
    const wb = new ExcelJS.Workbook()
    const ws = wb.addWorksheet('台账', { views: [{ state: 'frozen', ySplit: 1 }] })
    ws.columns = fields.map(f => ({ header: f.zh, key: f.key, width: Math.max(12, f.zh.length * 2 + 4) }))
    ws.getRow(1).eachCell((c, i) => {
      c.font = { bold: true, color: { argb: fields[i - 1]!.required ? 'FFC00000' : 'FF000000' } }
      c.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFF2F2F2' } }
    })
    ws.addRow(Object.fromEntries(fields.map(f => [f.key, f.example || null])))
    // Text columns stay text: ledger refs and ID numbers must not turn into numbers.
    for (const [i, f] of fields.entries()) if (/ref|idNumber|Phone|phone/.test(f.key)) ws.getColumn(i + 1).numFmt = '@'
    const help = wb.addWorksheet('填写说明')
    help.columns = [{ header: '列', width: 22 }, { header: '必填', width: 8 }, { header: 'Field', width: 26 }, { header: '说明', width: 70 }, { header: 'Note', width: 70 }]
    help.getRow(1).font = { bold: true }
    for (const f of fields) help.addRow([f.zh, f.required ? '是' : '', f.en, f.note ?? '', f.noteEn ?? ''])
    help.addRow([])
    help.addRow(['日期', '', 'Dates', '2020-01-05、2020/1/5、2020年1月5日 或 Excel 日期；隐患的日期可带时间（2020-01-05 14:30）'])
    help.addRow(['坐标', '', 'Coordinates', '十进制度；导入时选择坐标系：WGS-84（GPS）、GCJ-02（高德、腾讯）或 BD-09（百度）'])
    help.addRow(['重复导入', '', 'Re-import', '按台账编号识别：再次导入同一文件不会改变任何数据；编号相同而内容不同的行将更新'])
    if (kind === 'hazards') {
      const dict = wb.addWorksheet('隐患字典')
      dict.columns = [{ header: '编号', width: 12 }, { header: '类别', width: 10 }, { header: '字典项', width: 90 }, { header: '需说明', width: 8 }]
      dict.getRow(1).font = { bold: true }
      for (const i of await app.db.sql<{ code: string; category: string; nameZh: string; needsText: boolean }[]>`
        select i.code, c.name_zh as category, i.name_zh, i.needs_text from hazard_item i join hazard_category c on c.code = i.category_code
        order by c.seq, i.seq`) dict.addRow([i.code, i.category, i.nameZh, i.needsText ? '是' : ''])
    }
    return reply.send(Buffer.from(await withoutFormulas(wb).xlsx.writeBuffer()))
  })

  app.post('/', {
    config: { permission: 'import' },
    bodyLimit: 512 * 1024 * 1024,
    schema: {
      tags: ['imports'],
      summary: 'Upload a ledger file (CSV or XLSX, the file as the body): its headings, row count and a suggested column mapping',
      querystring: Type.Object({ kind: LedgerKindSchema, fileName: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 201: ImportJobSchema, ...errors(400, 413, 415) },
    },
  }, async (req, reply) => {
    if (!Buffer.isBuffer(req.body)) throw badRequest('send the file itself as the request body (Content-Type: text/csv or the XLSX type)', '请把文件本身作为请求体发送')
    const job = await app.imports.upload(app.userOf(req), req.query.kind, req.query.fileName, req.body)
    reply.code(201)
    return job
  })

  app.get('/', {
    config: { permission: 'import' },
    schema: { tags: ['imports'], summary: 'Your recent imports', response: { 200: Type.Array(RecentImportSchema), ...errors(401, 403) } },
  }, async req => app.imports.recent(app.userOf(req).id))

  app.get('/:id', {
    config: { permission: 'import' },
    schema: { tags: ['imports'], summary: 'An import: its progress, and what the dry run or the commit found', params: JobId, response: { 200: ImportJobSchema, ...errors(404) } },
  }, async req => app.imports.state(req.params.id, app.userOf(req).id))

  app.post('/:id/dry-run', {
    config: { permission: 'import' },
    schema: {
      tags: ['imports'],
      summary: 'Check every row and say what would be created, updated or left unchanged; nothing is written',
      params: JobId, body: RunBody, response: { 202: ImportJobSchema, ...errors(400, 404, 409) },
    },
  }, async (req, reply) => {
    reply.code(202)
    return app.imports.run(req.params.id, app.userOf(req).id, false, req.body.mapping, req.body.crs)
  })

  app.post('/:id/commit', {
    config: { permission: 'import' },
    schema: {
      tags: ['imports'],
      summary: 'Check every row again and, when none has a problem, write them all in one transaction (all or nothing)',
      params: JobId, body: RunBody, response: { 202: ImportJobSchema, ...errors(400, 404, 409) },
    },
  }, async (req, reply) => {
    reply.code(202)
    return app.imports.run(req.params.id, app.userOf(req).id, true, req.body.mapping, req.body.crs)
  })

  app.get('/:id/errors', {
    config: { permission: 'import' },
    schema: {
      tags: ['imports'], summary: 'The error report: every row problem with its line and reason (CSV)', params: JobId,
      response: { 200: FileAnswer('The error report', [exportTypes.csv]), ...errors(401, 403, 404) },
    },
  }, async (req, reply) => {
    const rows = app.imports.errors(req.params.id, app.userOf(req).id)
    reply.type(exportTypes.csv).header('Content-Disposition', `attachment; filename="import-errors-${req.params.id.slice(0, 8)}.csv"`)
    return reply.send(toCsv([
      { key: 'line', header: '行号 line' }, { key: 'column', header: '列 column' }, { key: 'value', header: '内容 value' }, { key: 'reason', header: '问题 reason' },
    ], rows as unknown as Record<string, unknown>[]))
  })

  app.get('/:id/changes', {
    config: { permission: 'import' },
    schema: {
      tags: ['imports'], summary: 'The change report of a dry run or commit: each row that creates a record or updates fields, before and after (CSV)', params: JobId,
      response: { 200: FileAnswer('The change report', [exportTypes.csv]), ...errors(401, 403, 404) },
    },
  }, async (req, reply) => {
    const kind = app.imports.state(req.params.id, app.userOf(req).id).kind
    const names = new Map(ledgerFields[kind].map(f => [f.key, `${f.zh} ${f.en}`]))
    const rows = app.imports.changes(req.params.id, app.userOf(req).id).flatMap(c => (c.fields.length ? c.fields : [null]).map(f => ({
      line: c.line, ref: c.ref, action: c.action === 'create' ? '新增 create' : '更新 update', label: c.label,
      field: f ? names.get(f.field) ?? f.field : '', before: f?.before ?? '', after: f?.after ?? '',
    })))
    reply.type(exportTypes.csv).header('Content-Disposition', `attachment; filename="import-changes-${req.params.id.slice(0, 8)}.csv"`)
    return reply.send(toCsv([
      { key: 'line', header: '行号 line' }, { key: 'ref', header: '台账编号 ref' }, { key: 'action', header: '变更 change' }, { key: 'label', header: '记录 record' },
      { key: 'field', header: '字段 field' }, { key: 'before', header: '原值 before' }, { key: 'after', header: '新值 after' },
    ], rows))
  })
  app.delete('/:id', {
    config: { permission: 'import' },
    schema: { tags: ['imports'], summary: 'Forget an uploaded file', params: JobId, response: { 204: Type.Null({ description: 'Forgotten' }), ...errors(401, 403, 404, 409) } },
  }, async (req, reply) => {
    await app.imports.discard(req.params.id, app.userOf(req).id)
    return reply.code(204).send(null)
  })
}
export default routes
