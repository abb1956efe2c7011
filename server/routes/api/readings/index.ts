import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { exportTypes, toCsv } from '../../../domain/exports.js'
import { badRequest } from '../../../lib/http-errors.js'
import { errors, FileAnswer } from '../../../schemas/common.js'
import { ReadingJobSchema, ReadingsRunSchema, ReadingsUploadQuery } from '../../../schemas/readings.js'

const JobId = Type.Object({ id: Type.String({ format: 'uuid' }) })
const fileTypes = ['application/octet-stream', 'text/csv', 'text/plain', 'application/vnd.ms-excel', exportTypes.xlsx.split(';')[0]!]

/**
 * Utility readings: upload (streamed to disk, never whole in memory), dry run, commit (all or
 * nothing), the error report and the accounts that matched no premises. Runs in the background:
 * the answers are the job's state, which the page polls.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  // The body stays a stream: a file of ten million readings goes to disk as it arrives.
  app.addContentTypeParser(fileTypes, (_req, payload, done) => done(null, payload))

  app.post('/', {
    config: { permission: 'import' },
    schema: {
      tags: ['readings'],
      summary: 'Upload a utility\'s readings file (CSV in UTF-8 or GB18030, or XLSX; the file as the body): its headings and a suggested column mapping',
      querystring: ReadingsUploadQuery, response: { 201: ReadingJobSchema, ...errors(400, 401, 403, 413, 415) },
    },
  }, async (req, reply) => {
    // Only the file types above arrive as a stream; JSON (or nothing) is not a file.
    if (!(req.body instanceof Readable)) throw badRequest('send the file itself as the request body (Content-Type: text/csv or the XLSX type)', '请把文件本身作为请求体发送')
    const job = await app.readings.upload(app.userOf(req), req.query.utility, req.query.fileName, req.body)
    reply.code(201)
    return job
  })

  app.get('/:id', {
    config: { permission: 'import' },
    schema: { tags: ['readings'], summary: 'A readings import: its progress, and what the dry run or the commit found', params: JobId, response: { 200: ReadingJobSchema, ...errors(401, 403, 404) } },
  }, async req => app.readings.state(req.params.id, app.userOf(req).id))

  app.post('/:id/dry-run', {
    config: { permission: 'import' },
    schema: {
      tags: ['readings'],
      summary: 'Check every row and match every account to premises (by ref, address, or the nearest within matchDistance); nothing is written',
      params: JobId, body: ReadingsRunSchema, response: { 202: ReadingJobSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    reply.code(202)
    return app.readings.run(req.params.id, app.userOf(req).id, false, req.body)
  })

  app.post('/:id/commit', {
    config: { permission: 'import' },
    schema: {
      tags: ['readings'],
      summary: 'Check and match again and, when nothing has a problem, write accounts and readings in one transaction (all or nothing); the leads are then recomputed',
      params: JobId, body: ReadingsRunSchema, response: { 202: ReadingJobSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    reply.code(202)
    return app.readings.run(req.params.id, app.userOf(req).id, true, req.body)
  })

  app.get('/:id/errors', {
    config: { permission: 'import' },
    schema: {
      tags: ['readings'], summary: 'The error report: every row problem with its line, column and reason (CSV)', params: JobId,
      response: { 200: FileAnswer('The error report', [exportTypes.csv]), ...errors(401, 403, 404) },
    },
  }, async (req, reply) => {
    const report = app.readings.errorReport(req.params.id, app.userOf(req).id)
    reply.type(exportTypes.csv).header('Content-Disposition', `attachment; filename="readings-errors-${req.params.id.slice(0, 8)}.csv"`)
    // Written while the job runs; before its first run there is nothing to report yet.
    return reply.send(report ?? Buffer.from('\uFEFF"行号 line","列 column","内容 value","问题 reason"\r\n'))
  })

  app.get('/:id/unmatched', {
    config: { permission: 'import' },
    schema: {
      tags: ['readings'], summary: 'The accounts that match no premises, and why (CSV)', params: JobId,
      response: { 200: FileAnswer('The accounts that match no premises', [exportTypes.csv]), ...errors(401, 403, 404) },
    },
  }, async (req, reply) => {
    const rows = await app.readings.unmatched(req.params.id, app.userOf(req).id)
    reply.type(exportTypes.csv).header('Content-Disposition', `attachment; filename="readings-unmatched-${req.params.id.slice(0, 8)}.csv"`)
    return reply.send(toCsv([
      { key: 'accountNo', header: '户号 account' }, { key: 'address', header: '地址 address' }, { key: 'reason', header: '原因 reason' },
    ], rows.map(r => ({ ...r, reason: r.reason === 'no-premises' ? '附近及该地址均无房屋 no-premises' : '既无地址也无坐标 no-location' }))))
  })

  app.delete('/:id', {
    config: { permission: 'import' },
    schema: { tags: ['readings'], summary: 'Forget an uploaded readings file', params: JobId, response: { 204: Type.Null(), ...errors(401, 403, 404) } },
  }, async (req, reply) => {
    await app.readings.discard(req.params.id, app.userOf(req).id)
    return reply.code(204).send(null)
  })
}
export default routes
