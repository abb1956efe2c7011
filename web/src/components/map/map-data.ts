import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url'
import type { BasemapAnswer } from '../../../../server/schemas/config'
import { getJson } from '../../api/client'
import { fetchKeyAreas, type KeyAreaCollection } from '../../api/key-areas'
import { type AreaCollection, fetchAreas, fetchPoliceStations, fetchPois, type PoiCollection, type StationCollection } from '../../api/reference'

/** The main map's data besides its tiles, asked for all at once. */
export interface MapData {
  /** What the first tile requests wait for: where the map opens (district, towns, police-station areas) and the basemap under it. */
  first: Promise<[AreaCollection, AreaCollection, StationCollection, BasemapAnswer]>
  /**
   * What arrives while the first tiles load: communities, points of interest and key areas (the
   * slowest: each one's open hazards are counted); a map without key areas still works (null).
   */
  later: Promise<[AreaCollection, PoiCollection, KeyAreaCollection | null]>
}

/** A prefetch older than this is not used: key areas change. */
const freshMs = 10_000

let prefetched: { data: MapData; at: number } | undefined

function request(): MapData {
  const data: MapData = {
    first: Promise.all([fetchAreas('district'), fetchAreas('town'), fetchPoliceStations(), getJson<{ basemap: BasemapAnswer }>('/config').then(c => c.basemap)]),
    later: Promise.all([fetchAreas('community'), fetchPois(), fetchKeyAreas().catch(() => null)]),
  }
  // Whoever takes the data hears of a failure; until then it is not an unhandled rejection.
  data.first.catch(() => undefined)
  data.later.catch(() => undefined)
  return data
}

/**
 * Asks for the map's data and its worker's script while the map's code (MapLibre, a megabyte) is still loading: the router
 * calls this as it starts loading the map page, after the sign-in check.
 */
export function prefetchMapData(): void {
  prefetched = { data: request(), at: Date.now() }
  // MapLibre's worker script too (half a megabyte, asked for only once MapLibre has run): the worker
  // then starts from the browser's cache (the file is immutable).
  fetch(workerUrl).then(r => r.arrayBuffer()).catch(() => undefined)
}

/**
 * The map's data: the prefetched requests if they are recent, new ones otherwise. A prefetch that
 * failed is asked again: with no network it ran before the signed-in layout had installed the
 * offline copies (api/client), which now answer it.
 */
export function takeMapData(): MapData {
  const p = prefetched
  prefetched = undefined
  if (!p || Date.now() - p.at >= freshMs) return request()
  let again: MapData | undefined
  const retry = () => (again ??= request())
  return { first: p.data.first.catch(() => retry().first), later: p.data.later.catch(() => retry().later) }
}
