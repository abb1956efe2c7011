import { createHash } from 'node:crypto'
import sharp from 'sharp'
import { HttpError } from '../lib/http-errors.js'

/**
 * Photos as evidence: what an upload must be, and what the server keeps of it. The phone shrinks
 * a photo before sending it (a few hundred kB); the server still trusts nothing of the file. It
 * must start like a JPEG, PNG or WebP and decode completely within the pixel limit; what is
 * stored is a JPEG the server encoded itself from the decoded pixels, so no byte of the uploaded
 * container survives: no EXIF (place, time, phone), no comment, no trailing data, no script.
 */

/** The largest upload accepted: a phone photo sent without shrinking (4–8 MB) still fits. */
export const maxPhotoBytes = 10 * 1024 * 1024

/** Pixels of the largest image decoded (a 40-megapixel camera); beyond it a small file can be a decompression bomb. */
export const maxPhotoPixels = 40_000_000

/** The longest side of the stored image and of its thumbnail, in pixels. */
export const storedLongSide = 2048
export const thumbLongSide = 320

export const photoStages = ['premises', 'found', 'rectified'] as const
export type PhotoStage = typeof photoStages[number]

export type PhotoFormat = 'jpeg' | 'png' | 'webp'

/** The format a file's first bytes announce, or null for anything else (SVG, HTML, PDF, HEIC, GIF...). */
export function sniffPhoto(buf: Uint8Array): PhotoFormat | null {
  const starts = (bytes: number[], at = 0) => bytes.every((b, i) => buf[at + i] === b)
  if (starts([0xFF, 0xD8, 0xFF])) return 'jpeg'
  if (starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) return 'png'
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp'
  return null
}

export const photoTooLarge = (bytes?: number) => new HttpError(413,
  `The photo is ${bytes === undefined ? 'larger than' : `${(bytes / 1048576).toFixed(1)} MB, over`} the limit of ${maxPhotoBytes / 1048576} MB. Take it again at a lower resolution, or let the app shrink it before sending.`,
  'photo-too-large',
  `照片${bytes === undefined ? '' : `有 ${(bytes / 1048576).toFixed(1)} MB，`}超过 ${maxPhotoBytes / 1048576} MB 的上限。请以较低分辨率重拍，或由应用压缩后再发送。`)

export const notAPhoto = () => new HttpError(415,
  'This file is not a photo: only JPEG, PNG or WebP images are accepted (a drawing such as SVG, a document or a renamed file is refused).',
  'not-a-photo',
  '此文件不是照片：只接受 JPEG、PNG 或 WebP 图片（SVG 等绘图、文档或改了扩展名的文件都不接受）。')

const unreadable = () => new HttpError(422,
  'The photo could not be read: the file is damaged or incomplete. Take or choose it again.',
  'photo-unreadable',
  '无法读取照片：文件已损坏或不完整，请重新拍摄或选择。')

const tooManyPixels = (pixels: number) => new HttpError(422,
  `The photo has ${(pixels / 1e6).toFixed(0)} million pixels, more than the ${maxPhotoPixels / 1e6} million accepted. Take it again at a lower resolution.`,
  'photo-too-many-pixels',
  `照片有 ${(pixels / 1e6).toFixed(0)} 百万像素，超过 ${maxPhotoPixels / 1e6} 百万像素的上限，请以较低分辨率重拍。`)

export interface ProcessedPhoto {
  /** The stored image: a JPEG encoded here, upright, without metadata. */
  image: Buffer
  thumb: Buffer
  width: number
  height: number
  sourceType: PhotoFormat
  sourceBytes: number
  /** Of the uploaded bytes, for the audit trail. */
  sha256: Buffer
}

/**
 * Checks an upload and encodes what is stored. Refusals: 413 too large, 415 not a JPEG, PNG or
 * WebP, 422 undecodable or too many pixels. The decoding runs on libuv's threads, not the event loop.
 */
export async function processPhoto(buf: Buffer): Promise<ProcessedPhoto> {
  if (buf.length > maxPhotoBytes) throw photoTooLarge(buf.length)
  const sourceType = sniffPhoto(buf)
  if (!sourceType) throw notAPhoto()
  // 'truncated' refuses a file cut short rather than storing a grey half.
  const input = () => sharp(buf, { limitInputPixels: maxPhotoPixels, failOn: 'truncated', autoOrient: true })
  try {
    // The header alone says how many pixels the image has: counted before any pixel is decoded.
    const meta = await sharp(buf, { limitInputPixels: false }).metadata()
    // The first bytes and the decoder must agree: a file that only starts like a photo is not one.
    if (meta.format !== sourceType) throw notAPhoto()
    const pixels = (meta.width ?? 0) * (meta.height ?? 0)
    if (pixels > maxPhotoPixels) throw tooManyPixels(pixels)
    const { data: image, info } = await input()
      .resize({ width: storedLongSide, height: storedLongSide, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 82, mozjpeg: true })
      .toBuffer({ resolveWithObject: true })
    const thumb = await sharp(image)
      .resize({ width: thumbLongSide, height: thumbLongSide, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 70, mozjpeg: true })
      .toBuffer()
    return { image, thumb, width: info.width, height: info.height, sourceType, sourceBytes: buf.length, sha256: createHash('sha256').update(buf).digest() }
  }
  catch (e) {
    if (e instanceof HttpError) throw e
    throw unreadable()
  }
}
