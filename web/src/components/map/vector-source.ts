import type * as maplibregl from 'maplibre-gl'
import { addProtocol } from 'maplibre-gl'

const protocol = 'grd-tilejson'
addProtocol(protocol, async ({ url }) => ({ data: JSON.parse(decodeURIComponent(url.slice(protocol.length + 3))) as object }))

/**
 * A vector tile source whose TileJSON MapLibre reads from its own address (the `grd-tilejson`
 * protocol, the TileJSON written into the address) rather than `tiles` given inline. MapLibre reads
 * inline tiles' metadata at the next animation frame and asks for the tiles at the frame after that; a
 * `url` it reads as soon as it is answered, here at once and without the network, so the map's first
 * frame already asks for the view's tiles. With a software renderer (the bench's headless Chromium,
 * office machines without a usable GPU) a frame cost 150-300 ms on the map's first view. `setTiles`
 * still works: the tiles it gives override the TileJSON's.
 */
export function vectorSource(tiles: string, options: { minzoom: number; maxzoom: number; attribution?: string }): maplibregl.VectorSourceSpecification {
  const tileJson = { tilejson: '3.0.0', tiles: [tiles], minzoom: options.minzoom, maxzoom: options.maxzoom }
  return { type: 'vector', url: `${protocol}://${encodeURIComponent(JSON.stringify(tileJson))}`, attribution: options.attribution }
}
