import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { PhotoStage, ProcessedPhoto } from '../../domain/photos.js'
import { HttpError, notFound } from '../../lib/http-errors.js'
import type { PhotoDto } from '../../schemas/photos.js'

/**
 * Photos of premises and of hazards, stored in the database with their thumbnails. Every read
 * joins the premises and filters on the jurisdiction; photos of the premises itself (its rooms,
 * its door plate: they show how and where people live) are read only by roles that see people,
 * while photos of a hazard (as found, as rectified) are evidence for everyone who sees the hazard.
 */

/** What a photo is attached to: a premises, or a hazard (which belongs to a premises). */
export type PhotoTarget = { premisesId: number; hazardId?: undefined } | { hazardId: number; premisesId?: undefined }

interface TargetRow { premisesId: number; hazardId: number | null; hazardStatus: string | null }

interface PhotoRow {
  id: number
  clientId: string
  premisesId: number
  hazardId: number | null
  stage: PhotoStage
  width: number
  height: number
  createdAt: Date
  createdById: number
  createdBy: string | null
}

export const photoDto = (p: PhotoRow): PhotoDto => ({
  id: p.id, clientId: p.clientId, premisesId: p.premisesId, hazardId: p.hazardId, stage: p.stage, width: p.width, height: p.height,
  createdAt: p.createdAt.toISOString(), createdBy: p.createdBy, url: `/api/photos/${p.id}`, thumbUrl: `/api/photos/${p.id}/thumb`,
})

const clientIdReused = () => new HttpError(409,
  'This upload\'s client id was already used for another photo (of another record, stage or user); make a new id for each photo.',
  'client-id-reused', '此次上传的客户端编号已用于另一张照片（其他记录、阶段或用户）；每张照片须使用新的编号。')

export const notRectifiedYet = () => new HttpError(409,
  'An "after" photo shows a rectification: mark the hazard rectified first, then add the photo.',
  'hazard-not-rectified', '“整改后”照片用于证明整改：请先将隐患标记为已整改，再添加照片。')

export const afterPhotoRequired = () => new HttpError(409,
  'This rectification cannot be verified without an "after" photo: add a photo of the rectified hazard first (the campaign requires one).',
  'after-photo-required', '没有“整改后”照片不能验收：请先添加整改后的照片（本次专项行动要求）。')

const verificationEvidence = () => new HttpError(409,
  'This is the only "after" photo of a verified hazard: its verification rests on it, so it cannot be deleted.',
  'photo-is-evidence', '这是已验收隐患唯一的“整改后”照片，验收以此为据，不能删除。')

const notYours = () => new HttpError(403,
  'Only the person who took a photo, or a commander, may delete it.',
  'not-photo-owner', '只有拍摄者本人或指挥长可以删除照片。')

/** Whether the current campaign lets a hazard be verified without an "after" photo of it. */
export async function afterPhotoMissing(tx: Tx, hazardId: number): Promise<boolean> {
  const [row] = await tx<{ missing: boolean }[]>`
    select coalesce((select verify_needs_photo from campaign order by starts_on desc limit 1), true)
           and not exists (select 1 from photo where hazard_id = ${hazardId} and stage = 'rectified' and deleted_at is null) as missing`
  return row!.missing
}

export function photosRepository(sql: Sql) {
  const photoColumns = (db: Sql | Tx) => db`ph.id, ph.client_id, ph.premises_id, ph.hazard_id, ph.stage, ph.width, ph.height,
    ph.created_at, ph.created_by as created_by_id, u.username as created_by`

  /** The premises or hazard inside the jurisdiction (locked for the transaction when `lock`), or undefined. */
  async function findTarget(db: Sql | Tx, scope: Jurisdiction, target: PhotoTarget, lock: boolean): Promise<TargetRow | undefined> {
    const s = db as unknown as Sql
    const [row] = target.hazardId !== undefined
      ? await db<TargetRow[]>`
          select p.id as premises_id, h.id as hazard_id, h.status as hazard_status
          from hazard h join premises p on p.id = h.premises_id
          where h.id = ${target.hazardId} and ${inJurisdiction(s, scope)} ${lock ? db`for share of h, p` : db``}`
      : await db<TargetRow[]>`
          select p.id as premises_id, null::bigint as hazard_id, null::text as hazard_status
          from premises p where p.id = ${target.premisesId} and ${inJurisdiction(s, scope)} ${lock ? db`for share of p` : db``}`
    return row
  }

  async function byClientId(db: Sql | Tx, clientId: string): Promise<PhotoRow | undefined> {
    const [row] = await db<PhotoRow[]>`
      select ${photoColumns(db)} from photo ph left join app_user u on u.id = ph.created_by where ph.client_id = ${clientId}`
    return row
  }

  /** The earlier upload with this client id when it is this very upload again; 409 when the id was used for another. */
  function replayOf(prior: PhotoRow, userId: number, target: TargetRow, stage: PhotoStage): PhotoRow {
    const same = prior.createdById === userId && prior.premisesId === target.premisesId && prior.hazardId === target.hazardId && prior.stage === stage
    if (!same) throw clientIdReused()
    return prior
  }

  const missing = (target: PhotoTarget) => (target.hazardId !== undefined
    ? notFound(`there is no hazard with id ${target.hazardId}`, `没有编号为 ${target.hazardId} 的隐患`)
    : notFound(`there is no premises with id ${target.premisesId}`, `没有编号为 ${target.premisesId} 的房屋`))

  /** A "rectified" photo needs a rectified hazard; a premises photo needs no hazard, a hazard photo one. */
  function checkStage(target: TargetRow, stage: PhotoStage) {
    if (stage === 'rectified' && target.hazardStatus !== 'rectified' && target.hazardStatus !== 'verified') throw notRectifiedYet()
  }

  return {
    /**
     * Before the photo is decoded: the target must exist inside the jurisdiction (404), and an upload
     * sent again is answered with the first photo, which makes every later step unnecessary.
     */
    async precheck(scope: Jurisdiction, userId: number, target: PhotoTarget, stage: PhotoStage, clientId: string): Promise<{ replay?: PhotoRow }> {
      const t = await findTarget(sql, scope, target, false)
      if (!t) throw missing(target)
      const prior = await byClientId(sql, clientId)
      if (prior) return { replay: replayOf(prior, userId, t, stage) }
      checkStage(t, stage)
      return {}
    },

    /**
     * Stores a checked photo in the caller's transaction. When an upload with the same client id
     * committed meanwhile (two sends racing), nothing is written and that photo is answered.
     */
    async insert(tx: Tx, scope: Jurisdiction, userId: number, target: PhotoTarget, stage: PhotoStage, clientId: string, p: ProcessedPhoto): Promise<{ photo: PhotoRow; replayed: boolean }> {
      const t = await findTarget(tx, scope, target, true)
      if (!t) throw missing(target)
      checkStage(t, stage)
      const [row] = await tx<{ id: number }[]>`
        insert into photo (client_id, premises_id, hazard_id, stage, width, height, source_type, source_bytes, sha256, image, thumb, created_by)
        values (${clientId}, ${t.premisesId}, ${t.hazardId}, ${stage}, ${p.width}, ${p.height}, ${p.sourceType}, ${p.sourceBytes},
                ${p.sha256}, ${p.image}, ${p.thumb}, ${userId})
        on conflict (client_id) do nothing
        returning id`
      const photo = await byClientId(tx, clientId)
      if (!row) return { photo: replayOf(photo!, userId, t, stage), replayed: true }
      return { photo: photo!, replayed: false }
    },

    /** The photos of a premises and of its hazards that the reader may see, oldest first; undefined outside the jurisdiction. */
    async list(scope: Jurisdiction, premisesId: number, withPeople: boolean): Promise<PhotoRow[] | undefined> {
      const [p] = await sql`select 1 from premises p where p.id = ${premisesId} and ${inJurisdiction(sql, scope)}`
      if (!p) return undefined
      return [...await sql<PhotoRow[]>`
        select ${photoColumns(sql)} from photo ph left join app_user u on u.id = ph.created_by
        where ph.premises_id = ${premisesId} and ph.deleted_at is null ${withPeople ? sql`` : sql`and ph.stage <> 'premises'`}
        order by ph.created_at, ph.id`]
    },

    /** The stored image or its thumbnail, when the reader may see the photo. */
    async bytes(scope: Jurisdiction, id: number, withPeople: boolean, which: 'image' | 'thumb'): Promise<Buffer | undefined> {
      const [row] = await sql<{ data: Buffer }[]>`
        select ${which === 'image' ? sql`ph.image` : sql`ph.thumb`} as data
        from photo ph join premises p on p.id = ph.premises_id
        where ph.id = ${id} and ph.deleted_at is null and ${inJurisdiction(sql, scope)}
          ${withPeople ? sql`` : sql`and ph.stage <> 'premises'`}`
      return row?.data
    },

    /**
     * Deletes a photo: its pixels are erased, its row stays for the trail. Its uploader may, and
     * whoever directs the inspectors' visits (`mayDeleteOthers`); never the last "after" photo of
     * a verified hazard, which its verification rests on.
     */
    async remove(tx: Tx, scope: Jurisdiction, user: { id: number; mayDeleteOthers: boolean }, id: number): Promise<PhotoRow> {
      const [row] = await tx<(PhotoRow & { hazardStatus: string | null })[]>`
        select ${photoColumns(tx)}, h.status as hazard_status
        from photo ph join premises p on p.id = ph.premises_id left join hazard h on h.id = ph.hazard_id
        left join app_user u on u.id = ph.created_by
        where ph.id = ${id} and ph.deleted_at is null and ${inJurisdiction(tx as unknown as Sql, scope)}
        for update of ph`
      if (!row) throw notFound(`there is no photo with id ${id}`, `没有编号为 ${id} 的照片`)
      if (row.createdById !== user.id && !user.mayDeleteOthers) throw notYours()
      if (row.stage === 'rectified' && row.hazardStatus === 'verified') {
        const [others] = await tx<{ n: number }[]>`
          select count(*)::int as n from photo where hazard_id = ${row.hazardId} and stage = 'rectified' and deleted_at is null and id <> ${id}`
        if (others!.n === 0) throw verificationEvidence()
      }
      await tx`update photo set deleted_at = now(), deleted_by = ${user.id}, image = null, thumb = null where id = ${id}`
      const { hazardStatus: _, ...photo } = row
      return photo
    },
  }
}

export type PhotosRepository = ReturnType<typeof photosRepository>

declare module 'fastify' {
  interface FastifyInstance {
    photos: PhotosRepository
  }
}

export default fp(async (app) => {
  app.decorate('photos', photosRepository(app.db.sql))
}, { name: 'photos', dependencies: ['db'] })
