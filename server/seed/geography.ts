import { featureCollection, point, polygon } from '@turf/helpers'
import { intersect } from '@turf/intersect'
import { voronoi } from '@turf/voronoi'
import type { Feature, MultiPolygon, Polygon } from 'geojson'
import { type Bbox, bboxOf, metresPerDegreeLat, metresPerDegreeLon, pointInPolygon } from '../domain/geo.js'
import type { Random } from '../domain/random.js'
import type { PlaceKind } from '../domain/lists.js'
import { placeSyllables } from './names.js'

/**
 * The synthetic district. Town and street names are Xinbei's real ones (December 2019), placed
 * roughly where they lie, but every boundary is generated: data/README.md says so.
 */

export type Area = Polygon | MultiPolygon

export interface TownSpec {
  code: string
  zh: string
  en: string
  subkind: 'town' | 'street'
  at: [number, number]
  communities: number
  /** 0..1: how urban (urban villages, campuses, underground spaces). */
  urban: number
  /** 0..1: how industrial (labour-intensive factories and their dormitories). */
  industry: number
  /** 0..1: how quickly the town registers and rectifies; makes the towns' rates differ. */
  efficiency: number
}

export const townSpecs: TownSpec[] = [
  { code: 'SJ', zh: '三井街道', en: 'Sanjing Street', subkind: 'street', at: [119.972, 31.835], communities: 11, urban: 1, industry: 0.3, efficiency: 0.95 },
  { code: 'HH', zh: '河海街道', en: 'Hehai Street', subkind: 'street', at: [120.000, 31.858], communities: 9, urban: 0.9, industry: 0.5, efficiency: 0.9 },
  { code: 'LHT', zh: '龙虎塘街道', en: 'Longhutang Street', subkind: 'street', at: [119.992, 31.905], communities: 9, urban: 0.8, industry: 0.6, efficiency: 0.84 },
  { code: 'CJ', zh: '春江镇', en: 'Chunjiang Town', subkind: 'town', at: [119.962, 31.992], communities: 9, urban: 0.4, industry: 0.9, efficiency: 0.7 },
  { code: 'XQ', zh: '新桥镇', en: 'Xinqiao Town', subkind: 'town', at: [119.935, 31.862], communities: 7, urban: 0.5, industry: 0.6, efficiency: 0.88 },
  { code: 'XJ', zh: '薛家镇', en: 'Xuejia Town', subkind: 'town', at: [119.918, 31.905], communities: 8, urban: 0.4, industry: 0.8, efficiency: 0.8 },
  { code: 'LX', zh: '罗溪镇', en: 'Luoxi Town', subkind: 'town', at: [119.888, 31.962], communities: 7, urban: 0.2, industry: 0.5, efficiency: 0.75 },
  { code: 'XXS', zh: '西夏墅镇', en: 'Xixiashu Town', subkind: 'town', at: [119.835, 31.925], communities: 6, urban: 0.15, industry: 0.4, efficiency: 0.82 },
  { code: 'MH', zh: '孟河镇', en: 'Menghe Town', subkind: 'town', at: [119.812, 32.008], communities: 7, urban: 0.1, industry: 0.3, efficiency: 0.65 },
  { code: 'BN', zh: '奔牛镇', en: 'Benniu Town', subkind: 'town', at: [119.818, 31.848], communities: 7, urban: 0.3, industry: 0.5, efficiency: 0.72 },
]

/** Police stations: their own seeds, so their areas cut across the towns as real ones do. */
const stationSpecs: { code: string; zh: string; en: string; at: [number, number] }[] = [
  { code: 'PS-TJ', zh: '通江派出所', en: 'Tongjiang Police Station', at: [119.958, 31.842] },
  { code: 'PS-HJ', zh: '汉江派出所', en: 'Hanjiang Police Station', at: [120.004, 31.872] },
  { code: 'PS-XL', zh: '新龙派出所', en: 'Xinlong Police Station', at: [119.972, 31.928] },
  { code: 'PS-WT', zh: '圩塘派出所', en: 'Weitang Police Station', at: [119.996, 31.996] },
  { code: 'PS-WC', zh: '魏村派出所', en: 'Weicun Police Station', at: [119.922, 32.018] },
  { code: 'PS-XH', zh: '小河派出所', en: 'Xiaohe Police Station', at: [119.808, 31.982] },
  { code: 'PS-WS', zh: '万绥派出所', en: 'Wansui Police Station', at: [119.856, 31.898] },
  { code: 'PS-BZ', zh: '百丈派出所', en: 'Baizhang Police Station', at: [119.893, 31.842] },
]

/**
 * The district outline inside 119°46'–120°01' E, 31°48'–32°03' N (DOMAIN.md), the Yangtze along
 * its northern edge. About 500 km².
 */
const districtRing: [number, number][] = [
  [119.785, 32.015], [119.805, 32.030], [119.830, 32.038], [119.860, 32.040], [119.890, 32.036],
  [119.915, 32.042], [119.940, 32.046], [119.965, 32.040], [119.990, 32.028], [120.008, 32.012],
  [120.014, 31.985], [120.010, 31.950], [120.015, 31.915], [120.008, 31.880], [120.012, 31.850],
  [120.000, 31.825], [119.975, 31.812], [119.950, 31.818], [119.925, 31.808], [119.895, 31.815],
  [119.865, 31.805], [119.835, 31.812], [119.805, 31.820], [119.780, 31.835], [119.772, 31.870],
  [119.778, 31.905], [119.770, 31.940], [119.776, 31.975], [119.772, 32.000], [119.785, 32.015],
]

export interface AreaRecord {
  key: string
  code: string
  level: 'district' | 'town' | 'community' | 'grid'
  subkind: 'town' | 'street' | 'community' | 'village' | null
  parentKey: string | null
  zh: string
  en: string
  geom: MultiPolygon
  /** Index into townSpecs for towns and everything below them. */
  town: number
}

export interface StationRecord {
  code: string
  zh: string
  en: string
  geom: MultiPolygon
}


export interface PoiRecord {
  kind: PlaceKind
  zh: string
  en: string
  at: [number, number]
  town: number
}

export interface Geography {
  district: AreaRecord
  towns: AreaRecord[]
  communities: AreaRecord[]
  grids: AreaRecord[]
  stations: StationRecord[]
  pois: PoiRecord[]
  bbox: Bbox
}

function toMulti(f: Feature<Polygon | MultiPolygon> | null): MultiPolygon | null {
  if (!f) return null
  return f.geometry.type === 'Polygon'
    ? { type: 'MultiPolygon', coordinates: [f.geometry.coordinates] }
    : f.geometry
}

/** Rounds coordinates to 1e-6° (about 10 cm): smaller output, no false precision. */
function rounded(geom: MultiPolygon): MultiPolygon {
  const r = (v: number) => Math.round(v * 1e6) / 1e6
  return {
    type: 'MultiPolygon',
    coordinates: geom.coordinates.map(poly => poly.map(ring => ring.map(([x, y]) => [r(x!), r(y!)]))),
  }
}

/** Splits an area into Voronoi cells around the given seeds, each clipped to the area. */
function partition(area: Area, seeds: [number, number][]): MultiPolygon[] {
  const b = bboxOf(area)
  const pad = 0.01
  const cells = voronoi(featureCollection(seeds.map(s => point(s))), { bbox: [b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad] })
  const areaFeature: Feature<Area> = { type: 'Feature', properties: {}, geometry: area }
  return cells.features.map((cell, i) => {
    const clipped = cell ? toMulti(intersect(featureCollection([cell, areaFeature as Feature<Polygon>]))) : null
    if (!clipped) throw new Error(`partition cell ${i} is empty`)
    return rounded(clipped)
  })
}

/** Random point inside an area (rejection sampling within its bounding box). */
export function randomPointIn(rng: Random, area: Area): [number, number] {
  const [x0, y0, x1, y1] = bboxOf(area)
  for (let i = 0; i < 10_000; i++) {
    const x = rng.uniform(x0, x1)
    const y = rng.uniform(y0, y1)
    if (pointInPolygon(x, y, area)) return [x, y]
  }
  throw new Error('could not place a point inside an area')
}

/** k seeds inside an area, kept apart so that the cells have similar sizes. */
function spreadSeeds(rng: Random, area: Area, k: number): [number, number][] {
  const [x0, y0, x1, y1] = bboxOf(area)
  let minDist = Math.sqrt(((x1 - x0) * (y1 - y0)) / k) * 0.55
  const seeds: [number, number][] = []
  let tries = 0
  while (seeds.length < k) {
    const p = randomPointIn(rng, area)
    if (seeds.every(s => Math.hypot(s[0] - p[0], s[1] - p[1]) >= minDist)) seeds.push(p)
    if (++tries % 200 === 0) minDist *= 0.85
  }
  return seeds
}

function placeName(rng: Random, used: Set<string>): [string, string] {
  for (;;) {
    const a = rng.pick(placeSyllables)
    const b = rng.pick(placeSyllables)
    if (a[0] === b[0]) continue
    const zh = a[0] + b[0]
    if (used.has(zh)) continue
    used.add(zh)
    return [zh, a[1] + b[1].toLowerCase()]
  }
}

/** Offsets a point by metres east and north. */
export function offset([x, y]: [number, number], east: number, north: number): [number, number] {
  return [x + east / metresPerDegreeLon, y + north / metresPerDegreeLat]
}

const poiTotals: Record<PlaceKind, number> = {
  campus: 8,
  factory: 45,
  urban_village: 18,
  urban_rural_fringe: 8,
  resettlement_estate: 14,
  underground_space: 10,
}

function poiTownWeight(kind: PlaceKind, t: TownSpec): number {
  switch (kind) {
    case 'campus': return t.urban ** 2 + 0.05
    case 'factory': return t.industry ** 2
    case 'urban_village': return t.urban * (1.2 - t.urban) + 0.1
    case 'urban_rural_fringe': return t.urban * (1 - t.urban) + 0.05
    case 'resettlement_estate': return t.urban + 0.2
    case 'underground_space': return t.urban ** 3
  }
}

function poiName(kind: PlaceKind, place: [string, string], n: number): [string, string] {
  const [zh, en] = place
  switch (kind) {
    case 'campus': return n % 2 === 0 ? [`${zh}职业技术学院`, `${en} Vocational College`] : [`${zh}工学院`, `${en} Institute of Technology`]
    case 'factory': {
      const types: [string, string][] = [['电子有限公司', 'Electronics Co.'], ['机械制造有限公司', 'Machinery Co.'], ['纺织有限公司', 'Textiles Co.'], ['光伏科技有限公司', 'Photovoltaic Co.'], ['汽车零部件有限公司', 'Auto Parts Co.'], ['食品有限公司', 'Foods Co.']]
      const [tz, te] = types[n % types.length]!
      return [`常州${zh}${tz}`, `Changzhou ${en} ${te}`]
    }
    case 'urban_village': return [`${zh}城中村`, `${en} urban village`]
    case 'urban_rural_fringe': return [`${zh}城郊片区`, `${en} fringe area`]
    case 'resettlement_estate': return [`${zh}安置小区`, `${en} Resettlement Estate`]
    case 'underground_space': return n % 2 === 0 ? [`${zh}地下车库`, `${en} underground car park`] : [`${zh}人防工程`, `${en} civil-defence basement`]
  }
}

/** Builds the whole synthetic geography from a seed. */
export function buildGeography(rng: Random): Geography {
  const districtGeom: MultiPolygon = { type: 'MultiPolygon', coordinates: [[districtRing]] }
  const district: AreaRecord = {
    key: 'D', code: '320411', level: 'district', subkind: null, parentKey: null,
    zh: '新北区', en: 'Xinbei District', geom: districtGeom, town: -1,
  }

  const townGeoms = partition(districtGeom, townSpecs.map(t => t.at))
  const towns: AreaRecord[] = townSpecs.map((t, i) => ({
    key: `T${i}`, code: `320411-${t.code}`, level: 'town', subkind: t.subkind, parentKey: 'D',
    zh: t.zh, en: t.en, geom: townGeoms[i]!, town: i,
  }))

  const used = new Set<string>()
  const communities: AreaRecord[] = []
  const grids: AreaRecord[] = []
  towns.forEach((town, ti) => {
    const spec = townSpecs[ti]!
    const seeds = spreadSeeds(rng, town.geom, spec.communities)
    const geoms = partition(town.geom, seeds)
    geoms.forEach((geom, ci) => {
      const [zh, en] = placeName(rng, used)
      // Streets are made of communities; towns mostly of villages with a community at the centre.
      const village = spec.subkind === 'town' && ci > 0
      const c: AreaRecord = {
        key: `C${communities.length}`, code: `${town.code}-${String(ci + 1).padStart(2, '0')}`,
        level: 'community', subkind: village ? 'village' : 'community', parentKey: town.key,
        zh: zh + (village ? '村' : '社区'), en: `${en} ${village ? 'Village' : 'Community'}`, geom, town: ti,
      }
      communities.push(c)
      const gridSeeds = spreadSeeds(rng, geom, 4)
      partition(geom, gridSeeds).forEach((g, gi) => {
        grids.push({
          key: `G${grids.length}`, code: `${c.code}-${gi + 1}`, level: 'grid', subkind: null, parentKey: c.key,
          zh: `${c.zh}第${gi + 1}网格`, en: `${c.en} grid ${gi + 1}`, geom: g, town: ti,
        })
      })
    })
  })

  const stationGeoms = partition(districtGeom, stationSpecs.map(s => s.at))
  const stations: StationRecord[] = stationSpecs.map((s, i) => ({ code: s.code, zh: s.zh, en: s.en, geom: stationGeoms[i]! }))

  const pois: PoiRecord[] = []
  // Factories gather in one or two industrial parks per industrial town.
  const parks = towns.flatMap((t, i) => {
    const n = townSpecs[i]!.industry >= 0.6 ? 2 : 1
    return Array.from({ length: n }, () => ({ town: i, at: randomPointIn(rng, t.geom) }))
  })
  for (const kind of Object.keys(poiTotals) as PlaceKind[]) {
    const weights = townSpecs.map((t, i) => [i, poiTownWeight(kind, t)] as const)
    for (let n = 0; n < poiTotals[kind]; n++) {
      const ti = rng.weighted(weights)
      const town = towns[ti]!
      let at: [number, number] | null = null
      if (kind === 'factory') {
        const townParks = parks.filter(p => p.town === ti)
        for (let k = 0; k < 50 && !at; k++) {
          const park = rng.pick(townParks)
          const p = offset(park.at, rng.normal() * 700, rng.normal() * 700)
          if (pointInPolygon(p[0], p[1], town.geom)) at = p
        }
      }
      at ??= randomPointIn(rng, town.geom)
      const [zh, en] = poiName(kind, placeName(rng, used), n)
      pois.push({ kind, zh, en, at, town: ti })
    }
  }

  return { district, towns, communities, grids, stations, pois, bbox: bboxOf(districtGeom) }
}

/** A rough circle (jittered polygon) of the given radius in metres, clipped to an area. */
export function blob(rng: Random, centre: [number, number], radius: number, within: Area): MultiPolygon | null {
  const ring: [number, number][] = []
  const n = 14
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / n
    const r = radius * rng.uniform(0.75, 1.2)
    ring.push(offset(centre, Math.cos(a) * r, Math.sin(a) * r))
  }
  ring.push(ring[0]!)
  const clipped = toMulti(intersect(featureCollection([polygon([ring]), { type: 'Feature', properties: {}, geometry: within } as Feature<Polygon>])))
  return clipped ? rounded(clipped) : null
}
