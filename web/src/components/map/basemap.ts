import type * as maplibregl from 'maplibre-gl'
import { addProtocol } from 'maplibre-gl'
import { Protocol } from 'pmtiles'
import { getJson } from '../../api/client'

export interface BasemapConfig {
  type: 'none' | 'raster' | 'pmtiles'
  url: string | null
  attribution: string | null
}

let protocolAdded = false

/**
 * The optional basemap under our own layers. Off by default (the map needs nothing from outside);
 * a raster PMTiles file under data/ or a tile URL from configuration (an intranet Tianditu proxy,
 * say) turns it on.
 */
export async function addBasemap(map: maplibregl.Map): Promise<void> {
  const { basemap } = await getJson<{ basemap: BasemapConfig }>('/config')
  if (basemap.type === 'none' || !basemap.url) return
  if (basemap.type === 'pmtiles' && !protocolAdded) {
    const protocol = new Protocol()
    addProtocol('pmtiles', protocol.tile)
    protocolAdded = true
  }
  map.addSource('basemap', basemap.type === 'pmtiles'
    ? { type: 'raster', url: `pmtiles://${location.origin}${basemap.url}`, tileSize: 256, attribution: basemap.attribution ?? undefined }
    : { type: 'raster', tiles: [basemap.url], tileSize: 256, attribution: basemap.attribution ?? undefined })
  map.addLayer({ id: 'basemap', type: 'raster', source: 'basemap' })
}
