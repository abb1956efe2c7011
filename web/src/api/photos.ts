import type { PhotoDto } from '../../../server/schemas/photos'
import { type ShownPhoto, withQueuedPhotos } from '../offline/overlay'
import { getJson, send } from './client'

export type Photo = PhotoDto

/** The longest side a photo is shrunk to on the phone before it is sent, and its JPEG quality. */
export const shrinkLongSide = 1600
const shrinkQuality = 0.8

/** A photo as the phone will send it: already shrunk, with the id that makes a resend safe. */
export interface PickedPhoto {
  blob: Blob
  /** For the preview on screen (revoke it when done). */
  previewUrl: string
  /** Made once per photo: sending the same photo again (a retry) answers the first upload. */
  clientId: string
  originalBytes: number
  width: number
  height: number
}

/**
 * A random UUID (v4) for a write that may be sent again. crypto.randomUUID exists only on HTTPS
 * pages, and an intranet server is often reached over plain HTTP: getRandomValues works on both.
 */
export function newClientId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6]! & 0x0F) | 0x40
  b[8] = (b[8]! & 0x3F) | 0x80
  const h = [...b].map(x => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** A file the browser cannot decode as an image: not a photo. */
export class NotAPhotoError extends Error {}

/**
 * Shrinks a photo on the phone before it is sent: a 4–8 MB camera photo becomes a JPEG of a few
 * hundred kB, at most {@link shrinkLongSide} pixels on its long side, turned upright. The
 * browser decodes it (createImageBitmap), so a file that is no image is caught here already.
 */
export async function shrinkPhoto(file: Blob): Promise<PickedPhoto> {
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' })
  }
  catch {
    throw new NotAPhotoError('not a photo')
  }
  const scale = Math.min(1, shrinkLongSide / Math.max(bitmap.width, bitmap.height))
  const width = Math.max(1, Math.round(bitmap.width * scale))
  const height = Math.max(1, Math.round(bitmap.height * scale))
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const context = canvas.getContext('2d')!
  // A transparent PNG would turn black in a JPEG: paper white underneath.
  context.fillStyle = '#fff'
  context.fillRect(0, 0, width, height)
  context.drawImage(bitmap, 0, 0, width, height)
  bitmap.close()
  const blob = await new Promise<Blob | null>(resolve => canvas.toBlob(resolve, 'image/jpeg', shrinkQuality))
  if (!blob) throw new NotAPhotoError('not a photo')
  return { blob, previewUrl: URL.createObjectURL(blob), clientId: newClientId(), originalBytes: file.size, width, height }
}

/** The photos of a premises and its hazards, with those taken on this phone and not yet sent (marked pending). */
export const fetchPhotos = async (premisesId: number): Promise<ShownPhoto[]> =>
  withQueuedPhotos(premisesId, await getJson<Photo[]>(`/premises/${premisesId}/photos`))

export const deletePhoto = (id: number) => send<void>('DELETE', `/photos/${id}`)
