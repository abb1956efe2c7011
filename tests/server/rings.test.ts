import { describe, expect, it } from 'vitest'
import { destination } from '@turf/destination'
import { distance } from '@turf/distance'
import { earthRadius } from '../../server/domain/dbscan.js'
import { Random } from '../../server/domain/random.js'
import { type RingPlace, ringBands, ringFigures } from '../../server/domain/rings.js'

/**
 * The rings' counting in Node (ringBands) against a count of every (place, premises) pair by turf's
 * great-circle distance: bands, figures, and premises centimetres either side of an edge where the
 * flat (Web Mercator) distance alone would put them on the wrong side.
 */

const mercatorRadius = 6_378_137
const rad = Math.PI / 180
const toMercator = (lon: number, lat: number) => [mercatorRadius * lon * rad, mercatorRadius * Math.log(Math.tan(Math.PI / 4 + lat * rad / 2))] as const
const place = (lon: number, lat: number): RingPlace => {
  const [x, y] = toMercator(lon, lat)
  return { x, y, lon, lat, k: Math.cos(lat * rad) * earthRadius / mercatorRadius }
}

interface Premises { lon: number; lat: number; groupRental: number; open: number; major: number; people: number }

function columns(premises: Premises[]) {
  const xy = premises.map(p => toMercator(p.lon, p.lat))
  return {
    xs: Float64Array.from(xy, p => p[0]),
    ys: Float64Array.from(xy, p => p[1]),
    groupRentals: Uint8Array.from(premises, p => p.groupRental),
    openCounts: Int32Array.from(premises, p => p.open),
    openMajorCounts: Int32Array.from(premises, p => p.major),
    occupants: Int32Array.from(premises, p => p.people),
  }
}

/** Every pair measured: each premises in the band of the smallest radius that holds it. */
function bruteForce(places: RingPlace[], premises: Premises[], radii: number[]) {
  const out = new Float64Array(places.length * radii.length * ringFigures.length)
  places.forEach((pl, i) => {
    for (const p of premises) {
      const d = distance([pl.lon, pl.lat], [p.lon, p.lat], { units: 'meters' })
      const band = radii.findIndex(r => d <= r)
      if (band < 0) continue
      const o = (i * radii.length + band) * ringFigures.length
      out[o]!++
      out[o + 1]! += p.groupRental
      out[o + 2]! += p.open
      out[o + 3]! += p.major
      out[o + 4]! += p.people
    }
  })
  return out
}

describe('counting premises within rings', () => {
  it('puts premises 5 cm either side of an edge on their own side, where the flat distance is metres off', () => {
    // At 60 degrees north a 5 km ring's flat distance is off by about 3 m to the north and south.
    const places = [place(10.75, 59.91), place(119.92, 31.92)]
    const radii = [300, 1000, 5000]
    const premises: Premises[] = []
    for (const pl of places) {
      for (const r of radii) {
        for (const off of [-3, -0.5, -0.05, 0.05, 0.5, 3]) {
          for (let bearing = -180; bearing < 180; bearing += 22.5) {
            const [lon, lat] = destination([pl.lon, pl.lat], r + off, bearing, { units: 'meters' }).geometry.coordinates as [number, number]
            premises.push({ lon, lat, groupRental: Number(off > 0), open: 1, major: Number(bearing === 0), people: 3 })
          }
        }
      }
    }
    const got = ringBands(places, columns(premises), radii)
    expect(Array.from(got)).toEqual(Array.from(bruteForce(places, premises, radii)))
    // Each place: 16 directions x 3 offsets inside each ring, the first band holding its ring's only.
    expect(got[0]).toBe(48)
    expect(got[ringFigures.length]).toBe(48 + 48)
  })

  it('counts what a pair-by-pair count finds, around places near and far from each other', () => {
    const random = new Random(19)
    // Places in two groups (rings overlapping) and one alone; premises over all of them and beyond.
    const places = [
      ...Array.from({ length: 12 }, () => place(119.9 + random.next() * 0.03, 31.9 + random.next() * 0.03)),
      ...Array.from({ length: 6 }, () => place(120.2 + random.next() * 0.01, 31.7 + random.next() * 0.01)),
      place(120.05, 32.1),
    ]
    const premises = Array.from({ length: 6000 }, (): Premises => ({
      lon: 119.85 + random.next() * 0.4,
      lat: 31.65 + random.next() * 0.5,
      groupRental: Number(random.next() < 0.3),
      open: Math.floor(random.next() * 4),
      major: Math.floor(random.next() * 2),
      people: Math.floor(random.next() * 30),
    }))
    // Denser where the places are, so each ring holds many.
    for (const pl of places) {
      for (let i = 0; i < 150; i++) {
        const [lon, lat] = destination([pl.lon, pl.lat], random.next() * 2500, random.next() * 360 - 180, { units: 'meters' }).geometry.coordinates as [number, number]
        premises.push({ lon, lat, groupRental: 1, open: 2, major: 1, people: 12 })
      }
    }
    const radii = [200, 700, 2000]
    const want = bruteForce(places, premises, radii)
    expect(Array.from(ringBands(places, columns(premises), radii))).toEqual(Array.from(want))
    // Every band of the dense places holds someone: the comparison is not of zeros.
    for (let i = 0; i < places.length - 1; i++) for (let b = 0; b < radii.length; b++) expect(want[(i * radii.length + b) * ringFigures.length]).toBeGreaterThan(0)
  })

  it('gives nothing without places and refuses radii out of order', () => {
    const none = columns([{ lon: 120, lat: 32, groupRental: 1, open: 1, major: 1, people: 1 }])
    expect(ringBands([], none, [300]).length).toBe(0)
    expect(() => ringBands([place(120, 32)], none, [500, 300])).toThrow(/ascend/)
  })
})
