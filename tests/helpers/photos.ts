import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import sharp from 'sharp'
import { rootDir } from '../../server/lib/config.js'
import type { Sql } from '../../server/db/index.js'

/** A file of tests/fixtures/photos (see its README for what each one is). */
export const photoFixture = (name: string) => readFileSync(join(rootDir, 'tests', 'fixtures', 'photos', name))

/** A real, very small JPEG for tests that need a photo but not a phone's. */
export const tinyJpeg = await sharp({ create: { width: 16, height: 12, channels: 3, background: '#8a8f96' } }).jpeg().toBuffer()

/** Uploads a photo through the API; `target` is the path below /api, e.g. "premises/5" or "hazards/9". */
export function uploadPhoto(app: FastifyInstance, cookie: string, target: string, body: Buffer | string, opts: { stage?: 'found' | 'rectified'; clientId?: string; type?: string } = {}) {
  const q = new URLSearchParams({ clientId: opts.clientId ?? randomUUID(), ...(opts.stage ? { stage: opts.stage } : {}) })
  return app.inject({ method: 'POST', url: `/api/${target}/photos?${q}`, headers: { cookie, 'content-type': opts.type ?? 'image/jpeg' }, payload: body })
}

/**
 * A photo written straight to the database (a tiny JPEG), for tests about something else: of a
 * premises, or of a hazard as found or rectified; taken by the given user (default: the first).
 */
export async function insertPhoto(sql: Sql, p: { premisesId?: number; hazardId?: number; stage: 'premises' | 'found' | 'rectified'; createdBy?: number }): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    insert into photo (client_id, hazard_id, premises_id, stage, width, height, source_type, source_bytes, sha256, image, thumb, created_by)
    values (${randomUUID()}, ${p.hazardId ?? null}, ${p.premisesId ?? 0}, ${p.stage}, 16, 12, 'jpeg', ${tinyJpeg.length}, sha256(${tinyJpeg}),
            ${tinyJpeg}, ${tinyJpeg}, ${p.createdBy ?? sql`(select id from app_user order by id limit 1)`})
    returning id`
  return row!.id
}

/**
 * An "after" photo of a hazard written straight to the database, for tests about something else
 * that need a rectified hazard which may be verified (the campaign asks for the photo).
 */
export async function insertAfterPhoto(sql: Sql, hazardId: number): Promise<void> {
  await insertPhoto(sql, { hazardId, stage: 'rectified' })
}
