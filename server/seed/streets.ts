import type { Feature, LineString, MultiPolygon, Polygon, Position } from 'geojson'
import { metresPerDegreeLat, metresPerDegreeLon, pointInPolygon } from '../domain/geo.js'
import { Random } from '../domain/random.js'
import { type Geography, townSpecs } from './geography.js'
import { placeSyllables, roadNames } from './names.js'

/**
 * The demo district's street map, generated with it: roads by class, the Yangtze, canals and ponds,
 * parks, blocks, campuses and factories. Streets are laid out on axis-aligned grids in a local metric
 * frame, so that "is this point on a road" is arithmetic and the seed can move every premises off
 * the roads and out of the water into a block (`settle`) without slowing down.
 */

export type RoadClass = 'trunk' | 'primary' | 'secondary' | 'residential' | 'path'

/** The vector tile layers of the street map, in drawing order. */
export const streetLayers = ['water', 'landuse', 'waterway', 'roads'] as const
export type StreetLayer = typeof streetLayers[number]

export interface StreetFeatureProps {
  layer: StreetLayer
  class: string
  name: string | null
  nameEn: string | null
  /** The lowest zoom the feature is drawn at. */
  minzoom: number
}

export type StreetFeature = Feature<Polygon | LineString, StreetFeatureProps>

export interface StreetMap {
  features: StreetFeature[]
  /** A point moved the shortest way off any road and out of any water, or the point itself. */
  settle: (at: [number, number]) => [number, number]
}

// The local frame: metres east and north of a corner south-west of the district.
const lon0 = 119.76
const lat0 = 31.80
const toM = ([lon, lat]: Position): [number, number] => [(lon! - lon0) * metresPerDegreeLon, (lat! - lat0) * metresPerDegreeLat]
const r6 = (v: number) => Math.round(v * 1e6) / 1e6
const toLL = (x: number, y: number): [number, number] => [r6(lon0 + x / metresPerDegreeLon), r6(lat0 + y / metresPerDegreeLat)]

/** Half the width of a road of each class, with its verge, in metres: no premises stands closer to the centre line. */
const halfWidth: Record<RoadClass, number> = { trunk: 22, primary: 16, secondary: 11, residential: 7, path: 2 }
const roadMinZoom: Record<RoadClass, number> = { trunk: 10, primary: 10, secondary: 12, residential: 14, path: 15 }

/** An axis-aligned road: x = at from y0 to y1 ('ns'), or y = at from x0 to x1 ('ew'). */
interface Road {
  cls: RoadClass
  axis: 'ns' | 'ew'
  at: number
  spans: [number, number][]
  name: string | null
  nameEn: string | null
}

interface Rect { x0: number; y0: number; x1: number; y1: number }

/** Where a line x = at (or y = at) runs inside a polygon's outer rings: the inside intervals along it. */
function insideIntervals(axis: 'ns' | 'ew', at: number, rings: [number, number][][]): [number, number][] {
  const cuts: number[] = []
  for (const ring of rings) {
    for (let i = 0; i < ring.length - 1; i++) {
      const [ax, ay] = ring[i]!
      const [bx, by] = ring[i + 1]!
      const [a, b, pa, pb] = axis === 'ns' ? [ax, bx, ay, by] : [ay, by, ax, bx]
      if ((a <= at) !== (b <= at)) cuts.push(pa + ((at - a) / (b - a)) * (pb - pa))
    }
  }
  cuts.sort((p, q) => p - q)
  const out: [number, number][] = []
  for (let i = 0; i + 1 < cuts.length; i += 2) out.push([cuts[i]!, cuts[i + 1]!])
  return out
}

function subtract(spans: [number, number][], lo: number, hi: number): [number, number][] {
  const out: [number, number][] = []
  for (const [a, b] of spans) {
    if (hi <= a || lo >= b) out.push([a, b])
    else {
      if (lo > a) out.push([a, lo])
      if (hi < b) out.push([hi, b])
    }
  }
  return out.filter(([a, b]) => b - a > 1)
}

function intersectSpans(spans: [number, number][], lo: number, hi: number): [number, number][] {
  return spans.map(([a, b]): [number, number] => [Math.max(a, lo), Math.min(b, hi)]).filter(([a, b]) => b - a > 1)
}

/** Cuts a rectangle out of a road (a campus or a park interrupts the small streets that would cross it). */
function cutRect(road: Road, r: Rect): void {
  if (road.axis === 'ns' && road.at > r.x0 && road.at < r.x1) road.spans = subtract(road.spans, r.y0, r.y1)
  if (road.axis === 'ew' && road.at > r.y0 && road.at < r.y1) road.spans = subtract(road.spans, r.x0, r.x1)
}

function ringsOf(geom: MultiPolygon): [number, number][][] {
  return geom.coordinates.map(p => p[0]!.map(toM))
}

function rectPolygon(r: Rect): Polygon {
  return { type: 'Polygon', coordinates: [[toLL(r.x0, r.y0), toLL(r.x1, r.y0), toLL(r.x1, r.y1), toLL(r.x0, r.y1), toLL(r.x0, r.y0)]] }
}

/** A canal: its centre line x = c + a·sin(y/λ + φ) (north-south) or y = … (east-west), and its width. */
interface Canal { zh: string; en: string; axis: 'ns' | 'ew'; c: number; a: number; lambda: number; phi: number; width: number; from: number; to: number }

function canalCentre(k: Canal, t: number): number {
  return k.c + k.a * Math.sin(t / k.lambda + k.phi)
}

interface Pond { x: number; y: number; r: number }

function roadName(rng: Random, used: Set<string>, suffix: [string, string]): [string, string] {
  for (let i = 0; ; i++) {
    const a = rng.pick(placeSyllables)
    const b = rng.pick(placeSyllables)
    const zh = `${a[0]}${b[0]}${suffix[0]}`
    if (a[0] === b[0] || (used.has(zh) && i < 50)) continue
    used.add(zh)
    return [zh, `${a[1]}${b[1].toLowerCase()} ${suffix[1]}`]
  }
}

/**
 * Builds the street map of a demo district. Deterministic for a seed; it draws from its own random
 * stream, so the rest of the demo data is the same as without it.
 */
export function buildStreets(seed: number, geo: Geography): StreetMap {
  const rng = new Random(seed ^ 0x5EED5)
  const districtRings = ringsOf(geo.district.geom)
  const [, , east, north] = districtRings.flat().reduce((b, [x, y]) => [Math.min(b[0], x), Math.min(b[1], y), Math.max(b[2], x), Math.max(b[3], y)], [Infinity, Infinity, -Infinity, -Infinity])
  const usedNames = new Set<string>()
  const roads: Road[] = []
  const features: StreetFeature[] = []

  // Arterial roads: a district-wide grid about 2.5 km apart, cut to the district, named from the
  // address book's road names; the two nearest the district's real trunk roads are trunk.
  const arterialNames = [...roadNames]
  const arterial = (axis: 'ns' | 'ew', at: number, cls: RoadClass) => {
    const i = rng.int(0, arterialNames.length - 1)
    const name = arterialNames.splice(i, 1)[0] ?? null
    roads.push({ cls, axis, at, spans: insideIntervals(axis, at, districtRings), name, nameEn: null })
  }
  for (let x = 1300 + rng.uniform(0, 600); x < east; x += 2500 + rng.uniform(-300, 300)) arterial('ns', x, Math.abs(x - 19_100) < 1300 ? 'trunk' : 'primary')
  for (let y = 1400 + rng.uniform(0, 600); y < north; y += 2600 + rng.uniform(-300, 300)) arterial('ew', y, Math.abs(y - 8500) < 1300 ? 'trunk' : 'primary')

  // Town centres: a street grid of blocks around each town's seat, denser where the town is more
  // urban, cut to the town; every fourth street is a secondary road.
  interface Core { cx: number; cy: number; s: number; r: number; rings: [number, number][][]; town: number }
  const cores: Core[] = geo.towns.map((t, i) => {
    const spec = townSpecs[i]!
    const [cx, cy] = toM(spec.at)
    return { cx, cy, s: Math.round(170 + 70 * (1 - spec.urban)), r: 900 + 1600 * spec.urban, rings: ringsOf(t.geom), town: i }
  })
  const coreRoads: Road[][] = cores.map((core) => {
    const out: Road[] = []
    const n = Math.floor(core.r / core.s)
    for (const axis of ['ns', 'ew'] as const) {
      for (let k = -n; k <= n; k++) {
        const at = (axis === 'ns' ? core.cx : core.cy) + k * core.s
        const half = Math.sqrt(core.r ** 2 - (k * core.s) ** 2)
        const c = axis === 'ns' ? core.cy : core.cx
        const spans = intersectSpans(insideIntervals(axis, at, core.rings), c - half, c + half)
        if (spans.length === 0) continue
        const cls: RoadClass = k % 4 === 0 ? 'secondary' : 'residential'
        const [name, nameEn] = roadName(rng, usedNames, cls === 'secondary' ? ['路', 'Road'] : rng.chance(0.7) ? ['街', 'Street'] : ['巷', 'Lane'])
        out.push({ cls, axis, at, spans, name, nameEn })
      }
    }
    return out
  })

  /** The block cell (i, j) of a core, when it lies wholly inside the core's circle and town. */
  const cellRect = (core: Core, i: number, j: number): Rect | null => {
    const r: Rect = { x0: core.cx + i * core.s, y0: core.cy + j * core.s, x1: core.cx + (i + 1) * core.s, y1: core.cy + (j + 1) * core.s }
    const corners: [number, number][] = [[r.x0, r.y0], [r.x1, r.y0], [r.x1, r.y1], [r.x0, r.y1]]
    const town = geo.towns[core.town]!.geom
    return corners.every(([x, y]) => Math.hypot(x - core.cx, y - core.cy) <= core.r && pointInPolygon(...toLL(x, y), town)) ? r : null
  }

  // Campuses and factories as named areas around their points of interest, snapped to the block
  // grid where they lie in a town centre; parks in each centre. Small streets do not cross them.
  const areas: { rect: Rect; cls: 'campus' | 'factory' | 'park'; name: string; nameEn: string | null; core: Core | null }[] = []
  for (const poi of geo.pois) {
    if (poi.kind !== 'campus' && poi.kind !== 'factory') continue
    const [x, y] = toM(poi.at)
    const [w, h] = poi.kind === 'campus' ? [rng.uniform(520, 700), rng.uniform(380, 520)] : [rng.uniform(160, 260), rng.uniform(120, 200)]
    const core = cores.find(c => Math.hypot(x - c.cx, y - c.cy) < c.r && c.town === poi.town) ?? null
    const snap = (v: number, o: number, s: number) => core ? o + Math.round((v - o) / s) * s : v
    const x0 = snap(x - w / 2, core?.cx ?? 0, core?.s ?? 1)
    const y0 = snap(y - h / 2, core?.cy ?? 0, core?.s ?? 1)
    const x1 = Math.max(snap(x + w / 2, core?.cx ?? 0, core?.s ?? 1), x0 + (core?.s ?? w))
    const y1 = Math.max(snap(y + h / 2, core?.cy ?? 0, core?.s ?? 1), y0 + (core?.s ?? h))
    areas.push({ rect: { x0, y0, x1, y1 }, cls: poi.kind, name: poi.zh, nameEn: poi.en, core })
  }
  for (const core of cores) {
    const n = Math.floor(core.r / core.s)
    const parks = 1 + Math.round(2 * townSpecs[core.town]!.urban)
    for (let p = 0, tries = 0; p < parks && tries < 40; tries++) {
      const i = rng.int(-n, n - 2)
      const j = rng.int(-n, n - 2)
      const a = cellRect(core, i, j)
      const b = cellRect(core, i + 1, j + 1)
      if (!a || !b) continue
      const rect = { x0: a.x0, y0: a.y0, x1: b.x1, y1: b.y1 }
      if (areas.some(o => o.rect.x0 < rect.x1 && o.rect.x1 > rect.x0 && o.rect.y0 < rect.y1 && o.rect.y1 > rect.y0)) continue
      const [name, nameEn] = roadName(rng, usedNames, ['公园', 'Park'])
      areas.push({ rect, cls: 'park', name, nameEn, core })
      p++
    }
  }
  for (const [ci, list] of coreRoads.entries()) {
    for (const road of list) {
      for (const a of areas) {
        if (a.core !== cores[ci]!) continue
        if (road.cls === 'residential' || a.cls !== 'factory') cutRect(road, a.rect)
      }
    }
  }
  for (const a of areas) {
    const { x0, y0, x1, y1 } = a.rect
    features.push({ type: 'Feature', geometry: rectPolygon(a.rect), properties: { layer: 'landuse', class: a.cls, name: a.name, nameEn: a.nameEn, minzoom: a.cls === 'factory' ? 13 : 12 } })
    if (a.cls !== 'factory') {
      const mx = (x0 + x1) / 2
      const my = (y0 + y1) / 2
      roads.push({ cls: 'path', axis: 'ns', at: mx, spans: [[y0 + 15, y1 - 15]], name: null, nameEn: null })
      roads.push({ cls: 'path', axis: 'ew', at: my, spans: [[x0 + 15, x1 - 15]], name: null, nameEn: null })
    }
  }
  roads.push(...coreRoads.flat())

  // Blocks: the cells between the streets of each centre not taken by a campus, factory or park.
  for (const core of cores) {
    const n = Math.floor(core.r / core.s)
    const inset = halfWidth.residential + 3
    for (let i = -n; i < n; i++) {
      for (let j = -n; j < n; j++) {
        const r = cellRect(core, i, j)
        if (!r || areas.some(a => a.core === core && r.x0 >= a.rect.x0 - 1 && r.x1 <= a.rect.x1 + 1 && r.y0 >= a.rect.y0 - 1 && r.y1 <= a.rect.y1 + 1)) continue
        features.push({ type: 'Feature', geometry: rectPolygon({ x0: r.x0 + inset, y0: r.y0 + inset, x1: r.x1 - inset, y1: r.y1 - inset }), properties: { layer: 'landuse', class: 'block', name: null, nameEn: null, minzoom: 13 } })
      }
    }
  }

  // Water: the Yangtze along the district's northern edge, the canals that run from it to the south
  // and the Grand Canal across the south, and ponds out in the country.
  const riverBank = geo.district.geom.coordinates[0]![0]!.filter(([, y]) => y! >= 32.01).sort((a, b) => a[0]! - b[0]!)
  const river: Polygon = { type: 'Polygon', coordinates: [[[119.70, 32.02], ...riverBank.map(([x, y]) => [x!, y!]), [120.10, 31.99], [120.10, 32.09], [119.70, 32.09], [119.70, 32.02]]] }
  features.push({ type: 'Feature', geometry: river, properties: { layer: 'water', class: 'river', name: '长江', nameEn: 'Yangtze River', minzoom: 10 } })
  const canals: Canal[] = [
    { zh: '新孟河', en: 'Xinmeng River', axis: 'ns', c: toM([119.806, 0])[0], a: 160, lambda: 1900, phi: 0.4, width: 70, from: 0, to: north + 800 },
    { zh: '德胜河', en: 'Desheng River', axis: 'ns', c: toM([119.879, 0])[0], a: 220, lambda: 1500, phi: 1.3, width: 55, from: 0, to: north + 800 },
    { zh: '澡港河', en: 'Zaogang River', axis: 'ns', c: toM([119.956, 0])[0], a: 180, lambda: 1300, phi: 2.1, width: 45, from: 0, to: north + 800 },
    { zh: '京杭大运河', en: 'Grand Canal', axis: 'ew', c: toM([0, 31.814])[1], a: 260, lambda: 2400, phi: 0.2, width: 90, from: -1000, to: east + 1000 },
  ]
  for (const k of canals) {
    const left: Position[] = []
    const right: Position[] = []
    const centre: Position[] = []
    for (let t = k.from; t <= k.to; t += 60) {
      const c = canalCentre(k, t)
      const pt = (off: number) => k.axis === 'ns' ? toLL(c + off, t) : toLL(t, c + off)
      left.push(pt(-k.width / 2))
      right.push(pt(k.width / 2))
      centre.push(pt(0))
    }
    features.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[...left, ...right.reverse(), left[0]!]] }, properties: { layer: 'water', class: 'canal', name: k.zh, nameEn: k.en, minzoom: 10 } })
    features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: centre }, properties: { layer: 'waterway', class: 'canal', name: k.zh, nameEn: k.en, minzoom: 11 } })
  }
  const ponds: Pond[] = []
  for (let tries = 0; ponds.length < 40 && tries < 2000; tries++) {
    const x = rng.uniform(0, east)
    const y = rng.uniform(0, north)
    const r = rng.uniform(40, 140)
    if (!pointInPolygon(...toLL(x, y), geo.district.geom)) continue
    if (cores.some(c => Math.hypot(x - c.cx, y - c.cy) < c.r + r + 50)) continue
    if (areas.some(a => x + r > a.rect.x0 - 30 && x - r < a.rect.x1 + 30 && y + r > a.rect.y0 - 30 && y - r < a.rect.y1 + 30)) continue
    if (roads.some(road => road.cls !== 'path' && Math.abs((road.axis === 'ns' ? x : y) - road.at) < r + 40)) continue
    if (canals.some(k => Math.abs((k.axis === 'ns' ? x : y) - canalCentre(k, k.axis === 'ns' ? y : x)) < r + k.width)) continue
    ponds.push({ x, y, r })
    const ring: Position[] = []
    for (let i = 0; i < 12; i++) {
      const a = (2 * Math.PI * i) / 12
      ring.push(toLL(x + Math.cos(a) * r, y + Math.sin(a) * r))
    }
    ring.push(ring[0]!)
    const named = r > 100 ? roadName(rng, usedNames, ['塘', 'Pond']) : [null, null]
    features.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [ring] }, properties: { layer: 'water', class: 'pond', name: named[0], nameEn: named[1], minzoom: 12 } })
  }

  for (const road of roads) {
    for (const [a, b] of road.spans) {
      const coordinates = road.axis === 'ns' ? [toLL(road.at, a), toLL(road.at, b)] : [toLL(a, road.at), toLL(b, road.at)]
      features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates }, properties: { layer: 'roads', class: road.cls, name: road.name, nameEn: road.nameEn, minzoom: roadMinZoom[road.cls] } })
    }
  }

  // Roads sorted by where they run, so a point looks only at the few within a road's width of it.
  const sorted = (axis: 'ns' | 'ew') => roads.filter(r => r.axis === axis && r.cls !== 'path').sort((a, b) => a.at - b.at)
  const byAxis = { ns: sorted('ns'), ew: sorted('ew') }
  const widest = halfWidth.trunk
  const near = (list: Road[], v: number): Road[] => {
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (list[mid]!.at < v - widest) lo = mid + 1
      else hi = mid
    }
    const out: Road[] = []
    for (let i = lo; i < list.length && list[i]!.at <= v + widest; i++) out.push(list[i]!)
    return out
  }
  const settle = (at: [number, number]): [number, number] => {
    let [x, y] = toM(at)
    // A few passes: moving off one road can land on a canal bank or a crossing road.
    for (let pass = 0; pass < 3; pass++) {
      let moved = false
      for (const road of near(byAxis.ns, x)) {
        const d = x - road.at
        const h = halfWidth[road.cls]
        if (Math.abs(d) < h && road.spans.some(([a, b]) => y > a - h && y < b + h)) {
          x = road.at + (d < 0 ? -h - 1 : h + 1)
          moved = true
        }
      }
      for (const road of near(byAxis.ew, y)) {
        const d = y - road.at
        const h = halfWidth[road.cls]
        if (Math.abs(d) < h && road.spans.some(([a, b]) => x > a - h && x < b + h)) {
          y = road.at + (d < 0 ? -h - 1 : h + 1)
          moved = true
        }
      }
      for (const k of canals) {
        const [t, v] = k.axis === 'ns' ? [y, x] : [x, y]
        const d = v - canalCentre(k, t)
        const h = k.width / 2 + 8
        if (Math.abs(d) < h) {
          const nv = canalCentre(k, t) + (d < 0 ? -h : h)
          if (k.axis === 'ns') x = nv
          else y = nv
          moved = true
        }
      }
      for (const p of ponds) {
        const d = Math.hypot(x - p.x, y - p.y)
        if (d < p.r + 8) {
          const f = (p.r + 9) / Math.max(d, 1e-6)
          x = p.x + (x - p.x) * f
          y = p.y + (y - p.y) * f
          moved = true
        }
      }
      if (!moved) break
    }
    return toLL(x, y)
  }

  return { features, settle }
}
