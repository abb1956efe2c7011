import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { can } from '../../../domain/access.js'
import { type ExportFormat, exportStream, exportTypes } from '../../../domain/exports.js'
import type { ExportSource } from '../../../plugins/app/exports.js'
import { mapFilterFrom } from '../../../plugins/app/premises-filter.js'
import { BboxString, errors, FileAnswer } from '../../../schemas/common.js'
import { MapFilterProperties } from '../../../schemas/premises.js'

/**
 * Premises and hazards as CSV, GeoJSON or XLSX, with the map's filters, for the user's jurisdiction.
 * Owners' and second landlords' names and phones are included only for roles that may see people;
 * for the others, ID and phone numbers typed into free text (addresses, hazard descriptions) are masked.
 * Rows are read in pages by id and streamed, so a district-wide export does not sit in memory.
 */
const Format = Type.Union([Type.Literal('csv'), Type.Literal('geojson'), Type.Literal('xlsx')], { default: 'csv' })
const ExportQuery = Type.Object({ ...MapFilterProperties, bbox: Type.Optional(BboxString), format: Format }, { additionalProperties: false })

const routes: FastifyPluginAsyncTypebox = async (app) => {
  /** Streams an export as a download; the handler returns once the last row is sent and recorded. */
  async function send(req: FastifyRequest, reply: FastifyReply, format: ExportFormat, what: 'premises' | 'hazards', name: string, title: string, source: ExportSource) {
    const { body, done } = exportStream(format, title, source.columns, source.pages,
      rows => app.audit.record(app.db.sql, req, { action: `export.${what}`, entity: what, after: { query: req.query, rows } }),
      (err, message) => reply.log.error({ err }, message))
    reply.type(exportTypes[format]).header('Content-Disposition', `attachment; filename="${name}.${format}"`)
    void reply.send(body)
    await done
    return reply
  }

  app.get('/premises', {
    config: { permission: 'export' },
    schema: {
      tags: ['exports'],
      summary: 'Premises with the map\'s filters as CSV, GeoJSON or XLSX (owners and landlords only for roles that see people)',
      querystring: ExportQuery,
      response: { 200: FileAnswer('The premises, in the format asked for', Object.values(exportTypes)), ...errors(400) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const { filter, on } = await mapFilterFrom(app, req.query)
    return send(req, reply, req.query.format, 'premises', `premises-${on}`, '场所 premises', app.exports.premises(user.jurisdiction, filter, on, can(user.role, 'people:read')))
  })

  app.get('/hazards', {
    config: { permission: 'export' },
    schema: {
      tags: ['exports'],
      summary: 'Hazards found up to the day, of the premises the map\'s filters select, as CSV, GeoJSON or XLSX',
      querystring: ExportQuery,
      response: { 200: FileAnswer('The hazards, in the format asked for', Object.values(exportTypes)), ...errors(400) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const { filter, on } = await mapFilterFrom(app, req.query)
    return send(req, reply, req.query.format, 'hazards', `hazards-${on}`, '隐患 hazards', app.exports.hazards(user.jurisdiction, filter, on, can(user.role, 'people:read')))
  })
}
export default routes
