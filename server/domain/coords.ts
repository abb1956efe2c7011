import { createRequire } from 'node:module'
import type { CoordinateSystem } from './lists.js'

/** The part of gcoord used here (it ships CommonJS whose types describe an ES default export). */
interface Gcoord {
  WGS84: string
  GCJ02: string
  BD09: string
  transform: (input: [number, number], from: string, to: string) => [number, number]
}
const gcoord = createRequire(import.meta.url)('gcoord') as Gcoord

export type { CoordinateSystem }

const crs = { wgs84: gcoord.WGS84, gcj02: gcoord.GCJ02, bd09: gcoord.BD09 } as const

/**
 * A point given in any of the three systems, as WGS-84 (what the database stores). Chinese map apps
 * shift coordinates by up to several hundred metres; storing them unconverted would misplace premises.
 */
export function toWgs84(lon: number, lat: number, from: CoordinateSystem): [number, number] {
  if (from === 'wgs84') return [lon, lat]
  const [x, y] = gcoord.transform([lon, lat], crs[from], gcoord.WGS84) as [number, number]
  return [x, y]
}

export function fromWgs84(lon: number, lat: number, to: CoordinateSystem): [number, number] {
  if (to === 'wgs84') return [lon, lat]
  const [x, y] = gcoord.transform([lon, lat], gcoord.WGS84, crs[to]) as [number, number]
  return [x, y]
}
