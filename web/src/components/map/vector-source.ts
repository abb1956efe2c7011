import type * as maplibregl from 'maplibre-gl'
import { addProtocol } from 'maplibre-gl'

/** The TileJSON of each source made here, by the address its source reads it from. */
const tileJsons = new Map<string, { tilejson: string; tiles: string[]; minzoom: number; maxzoom: number }>()
let protocolAdded = false

/**
 * A vector tile source whose TileJSON MapLibre reads from this page (an address of the
 * `grd-tilejson` protocol) rather than `tiles` given inline. MapLibre reads inline tiles' metadata
 * at the next animation frame and asks for the tiles at the frame after that; a `url` it reads as soon
 * as it is answered, here at once, so the map's first frame already asks for the view's tiles. With a
 * software renderer (the bench's headless Chromium, a weak laptop) a frame cost 200-300 ms on the
 * map's first view. `setTiles` still works: the tiles it gives override the TileJSON's.
 */
export function vectorSource(id: string, tiles: string, options: { minzoom: number; maxzoom: number; attribution?: string }): maplibregl.VectorSourceSpecification {
  if (!protocolAdded) {
    addProtocol('grd-tilejson', async ({ url }) => {
      const data = tileJsons.get(url)
      if (!data) throw new Error(`no tiles are described at ${url}`)
      // A copy: MapLibre writes the source's options into the TileJSON it is given.
      return { data: { ...data, tiles: [...data.tiles] } }
    })
    protocolAdded = true
  }
  const url = `grd-tilejson://${encodeURIComponent(id)}`
  tileJsons.set(url, { tilejson: '3.0.0', tiles: [tiles], minzoom: options.minzoom, maxzoom: options.maxzoom })
  return { type: 'vector', url, attribution: options.attribution }
}
