import { type Static, Type } from 'typebox'
import { Id } from './common.js'

/** Where a photo belongs: the premises itself, or one of its hazards as found or as rectified ("after"). */
export const PhotoStageSchema = Type.Union([Type.Literal('premises'), Type.Literal('found'), Type.Literal('rectified')], {
  description: 'premises: the premises itself; found: a hazard as found; rectified: the hazard after its rectification',
})

const ClientId = Type.String({
  format: 'uuid',
  description: 'Made by the client for this upload (a UUID). The same upload sent again with it answers the first photo (200) instead of storing a second',
})

export const PremisesPhotoQuery = Type.Object({ clientId: ClientId }, { additionalProperties: false })
export const HazardPhotoQuery = Type.Object({
  stage: Type.Union([Type.Literal('found'), Type.Literal('rectified')], { description: 'found: the hazard as found; rectified: after its rectification (the hazard must be marked rectified first)' }),
  clientId: ClientId,
}, { additionalProperties: false })

export const PhotoParams = Type.Object({ id: Id('The photo') })

export const PhotoSchema = Type.Object({
  id: Type.Integer(),
  clientId: Type.String(),
  premisesId: Type.Integer(),
  hazardId: Type.Union([Type.Integer(), Type.Null()]),
  stage: PhotoStageSchema,
  width: Type.Integer({ description: 'Of the stored image (at most 2048 pixels on its long side)' }),
  height: Type.Integer(),
  createdAt: Type.String({ description: 'ISO time of the upload' }),
  createdBy: Type.Union([Type.String(), Type.Null()], { description: 'User name of who took it' }),
  url: Type.String({ description: 'The image (JPEG)' }),
  thumbUrl: Type.String({ description: 'Its thumbnail (JPEG, at most 320 pixels on its long side)' }),
})
export type PhotoDto = Static<typeof PhotoSchema>

export const PhotoListSchema = Type.Array(PhotoSchema)

export const JpegSchema = Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary', description: 'image/jpeg' })
