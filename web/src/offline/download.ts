import type { OfflineBasemap, OfflinePackage } from '../../../server/schemas/offline'
import { getJson } from '../api/client'
import { fetchDictionary } from '../api/premises'
import { fetchAreas, fetchCampaign, fetchPois, fetchPoliceStations } from '../api/reference'
import { fetchMyTasks } from '../api/tasks'
import { offlineTileCache } from './names'
import { keepAnswer } from './copies'
import { offlineDb, type OfflineArea } from './db'

/** The tiles (z, x, y) covering a box at each zoom, in the XYZ scheme of /api/tiles. */
export function tilesOver(box: [number, number, number, number], minZoom: number, maxZoom: number): [number, number, number][] {
  const x = (lon: number, z: number) => Math.floor((lon + 180) / 360 * 2 ** z)
  const y = (lat: number, z: number) => {
    const r = lat * Math.PI / 180
    return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * 2 ** z)
  }
  const out: [number, number, number][] = []
  for (let z = minZoom; z <= maxZoom; z++) {
    for (let tx = x(box[0], z); tx <= x(box[2], z); tx++) {
      for (let ty = y(box[3], z); ty <= y(box[1], z); ty++) out.push([z, tx, ty])
    }
  }
  return out
}

/** The glyph ranges our server has (data/fonts): digits, pinyin and punctuation. */
const offlineGlyphRanges = ['0-255', '8192-8447']

/** The street map's tiles over my jurisdiction and their size: shown before the download, kept by it. */
export const fetchOfflineBasemap = () => getJson<OfflineBasemap>('/offline/basemap')

/** How a download is going, for the screen. */
export interface DownloadProgress { done: number; total: number }

/**
 * "Download for offline": the premises and hazards around my open visits (one answer from
 * /api/offline/package, kept as the panel reads them), the reference data the map and the forms
 * read, my visits, and the premises tiles of the area at street to doorway zooms (Cache Storage,
 * which the service worker answers from when there is no network). Answers what was kept.
 */
export async function downloadArea(userId: number, onProgress: (p: DownloadProgress) => void): Promise<OfflineArea | null> {
  const started = performance.now()
  let bytes = 0
  const pkg = await getJson<OfflinePackage>('/offline/package')
  bytes += JSON.stringify(pkg).length
  if (!pkg.bbox) return null
  // Reading them through the API keeps them (see copies.ts), under the very keys the pages ask for.
  await Promise.all([
    fetchAreas('district'), fetchAreas('town'), fetchAreas('community'), fetchPoliceStations(), fetchPois(),
    fetchDictionary(), fetchCampaign(), getJson('/config'), fetchMyTasks('open'), fetchMyTasks('done'),
  ])
  const hazardsOf = new Map<number, unknown[]>()
  for (const h of pkg.hazards) hazardsOf.set(h.premisesId, [...hazardsOf.get(h.premisesId) ?? [], h])
  for (const p of pkg.premises) {
    await keepAnswer(`/premises/${p.id}`, '', p)
    await keepAnswer(`/premises/${p.id}/hazards`, '', hazardsOf.get(p.id) ?? [])
  }

  // The premises tiles of the area, and the street map over the whole jurisdiction (issue 17): the
  // map has streets wherever the inspector walks, not only around today's visits.
  const streets = await fetchOfflineBasemap().catch(() => null)
  const urls = [
    ...tilesOver(pkg.bbox, pkg.tiles.minZoom, pkg.tiles.maxZoom).map(([z, x, y]) => `${location.origin}/api/tiles/premises/${z}/${x}/${y}.mvt`),
    ...(streets?.tiles ?? []).map(([z, x, y]) => `${location.origin}/basemap/tiles/${z}/${x}/${y}.mvt`),
    // The Latin glyphs of the map's labels, under the URLs MapLibre asks for.
    ...offlineGlyphRanges.map(r => `${location.origin}/basemap/fonts/Noto%20Sans%20Regular/${r}.pbf`),
  ]
  const cache = await caches.open(offlineTileCache)
  let done = 0
  onProgress({ done, total: urls.length })
  const queue = [...urls]
  // A few at a time: the server and a field network both prefer it to hundreds at once.
  await Promise.all(Array.from({ length: 6 }, async () => {
    for (let url = queue.shift(); url; url = queue.shift()) {
      const res = await fetch(url, { credentials: 'same-origin' })
      if (res.ok) {
        const body = await res.arrayBuffer()
        bytes += body.byteLength
        await cache.put(url, new Response(body, { headers: { 'content-type': res.headers.get('content-type') ?? 'application/vnd.mapbox-vector-tile' } }))
      }
      onProgress({ done: ++done, total: urls.length })
    }
  }))
  const area: OfflineArea = {
    userId, downloadedAt: new Date().toISOString(), bbox: pkg.bbox, premises: pkg.premises.length, hazards: pkg.hazards.length,
    tiles: urls.length, bytes, seconds: (performance.now() - started) / 1000,
  }
  await (await offlineDb()).put('area', area, 'current')
  return area
}

/** What was downloaded last, if anything. */
export async function downloadedArea(): Promise<OfflineArea | undefined> {
  try {
    return await (await offlineDb()).get('area', 'current')
  }
  catch {
    return undefined
  }
}

/**
 * Forgets the downloaded area and every kept answer (signing out: the next user of the phone sees
 * none of it). The queue of writes stays: work not yet sent is never dropped without its author.
 */
export async function forgetArea(): Promise<void> {
  try {
    const db = await offlineDb()
    const tx = db.transaction(['answers', 'area'], 'readwrite')
    await Promise.all([tx.objectStore('answers').clear(), tx.objectStore('area').clear(), tx.done])
    await caches.delete(offlineTileCache)
  }
  catch {
    // No IndexedDB or Cache Storage here: nothing was kept.
  }
}
