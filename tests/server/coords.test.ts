import { describe, expect, it } from 'vitest'
import { fromWgs84, toWgs84 } from '../../server/domain/coords.js'

/**
 * GCJ-02 as published (the "eviltransform" formulas), written out here independently of gcoord,
 * to check the library against.
 */
function wgsToGcj(lon: number, lat: number): [number, number] {
  const a = 6378245.0
  const ee = 0.00669342162296594323
  const x = lon - 105
  const y = lat - 35
  let dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x))
  dLat += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3
  dLat += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3
  dLat += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3
  let dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x))
  dLon += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3
  dLon += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3
  dLon += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3
  const radLat = (lat / 180) * Math.PI
  let magic = Math.sin(radLat)
  magic = 1 - ee * magic * magic
  const sqrtMagic = Math.sqrt(magic)
  dLat = (dLat * 180) / (((a * (1 - ee)) / (magic * sqrtMagic)) * Math.PI)
  dLon = (dLon * 180) / ((a / sqrtMagic) * Math.cos(radLat) * Math.PI)
  return [lon + dLon, lat + dLat]
}

const metres = (a: [number, number], b: [number, number]) =>
  Math.hypot((a[0] - b[0]) * 94_500, (a[1] - b[1]) * 110_900)

describe('coordinate conversion', () => {
  it('converts WGS-84 to BD-09 as gcoord documents for Tiananmen ([116.403988, 39.914266])', () => {
    const [x, y] = fromWgs84(116.403988, 39.914266, 'bd09')
    expect(x).toBeCloseTo(116.41661560068297, 9)
    expect(y).toBeCloseTo(39.92196580126834, 9)
  })

  it.each([
    [116.403988, 39.914266],
    [119.95, 31.85],
    [120.0, 32.0],
  ])('agrees with the published GCJ-02 formulas at %f, %f', (lon, lat) => {
    const ours = fromWgs84(lon, lat, 'gcj02')
    expect(metres(ours, wgsToGcj(lon, lat))).toBeLessThan(0.01)
  })

  it.each(['gcj02', 'bd09'] as const)('takes %s back to WGS-84 within a metre', (crs) => {
    for (const p of [[119.78, 31.81], [119.95, 31.9], [120.01, 32.04]] as [number, number][]) {
      const shifted = fromWgs84(p[0], p[1], crs)
      expect(metres(shifted, p)).toBeGreaterThan(300)
      expect(metres(toWgs84(shifted[0], shifted[1], crs), p)).toBeLessThan(1)
    }
  })

  it('leaves WGS-84 as it is', () => {
    expect(toWgs84(119.9, 31.9, 'wgs84')).toEqual([119.9, 31.9])
  })
})
