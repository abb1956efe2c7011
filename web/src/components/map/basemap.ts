import type * as maplibregl from 'maplibre-gl'
import { addProtocol } from 'maplibre-gl'
import { Protocol } from 'pmtiles'
import type { BasemapAnswer } from '../../../../server/schemas/config'
import { type BasemapLanguage, type BasemapTheme, streetsLayers, streetsSource } from './basemap-style'
import { vectorSource } from './vector-source'

export type BasemapConfig = BasemapAnswer

/** The CJK fonts a device may have, for MapLibre to draw Chinese labels with (no glyph download). */
export const localCjkFonts = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif'

let protocolAdded = false

interface Drawn {
  config: BasemapConfig
  theme: BasemapTheme
  lang: BasemapLanguage
  layerIds: string[]
}
const drawn = new WeakMap<maplibregl.Map, Drawn>()

/**
 * An absolute URL on our own origin for a path of ours (MapLibre takes absolute templates only); by
 * concatenation, since URL() would percent-encode the template's braces.
 */
const ours = (path: string) => (path.startsWith('/') ? `${location.origin}${path}` : path)

/**
 * Protomaps' basemap layers for a vector PMTiles build, in our theme and language. Their ids get a
 * prefix (theirs include "background"), and icons go: we ship no sprite, so nothing is fetched for them.
 */
async function protomapsLayers(theme: BasemapTheme, lang: BasemapLanguage): Promise<maplibregl.LayerSpecification[]> {
  const { layers, namedFlavor } = await import('@protomaps/basemaps')
  return layers(streetsSource, namedFlavor(theme), { lang: lang === 'zh' ? 'zh-Hans' : 'en' }).map((l) => {
    const layer = { ...l, id: `bm-pm-${l.id}` } as maplibregl.LayerSpecification
    if (layer.type === 'symbol' && layer.layout && 'icon-image' in layer.layout) {
      const { 'icon-image': _icon, ...layout } = layer.layout
      return { ...layer, layout }
    }
    return layer
  })
}

async function layersFor(d: Drawn): Promise<maplibregl.LayerSpecification[]> {
  switch (d.config.type) {
    case 'streets': return streetsLayers(d.theme, d.lang)
    case 'vector-pmtiles': return protomapsLayers(d.theme, d.lang)
    case 'raster':
    case 'pmtiles':
      // A raster service has one look: the dark theme dims it rather than drawing it anew.
      return [{ id: 'bm-raster', type: 'raster', source: streetsSource, paint: d.theme === 'dark' ? { 'raster-brightness-max': 0.45, 'raster-saturation': -0.5 } : {} }]
    case 'none': return []
  }
}

/** Puts the basemap's layers back, at the bottom (above the plain background), replacing the old ones. */
async function redraw(map: maplibregl.Map, d: Drawn): Promise<void> {
  const layers = await layersFor(d)
  for (const id of d.layerIds) if (map.getLayer(id)) map.removeLayer(id)
  const firstOurs = map.getStyle().layers.find(l => l.id !== 'background')?.id
  for (const layer of layers) map.addLayer(layer, firstOurs)
  d.layerIds = layers.map(l => l.id)
}

/**
 * The basemap under our own layers, as this installation configures it: the demo street map from our
 * server, a vector PMTiles build (Protomaps), a raster PMTiles file or an intranet tile service
 * (Tianditu), or none, as `basemap` (the answer of /api/config) says. Answers the configuration, so the map knows what it has under it.
 */
export async function addBasemap(map: maplibregl.Map, basemap: BasemapConfig, theme: BasemapTheme, lang: BasemapLanguage): Promise<BasemapConfig> {
  map.setGlyphs(ours(basemap.glyphs))
  if (basemap.type === 'none' || !basemap.url) return basemap
  const attribution = basemap.attribution ?? undefined
  if ((basemap.type === 'pmtiles' || basemap.type === 'vector-pmtiles') && !protocolAdded) {
    addProtocol('pmtiles', new Protocol().tile)
    protocolAdded = true
  }
  switch (basemap.type) {
    case 'streets':
      // Tiles from zoom 10 to 16; deeper zooms draw the zoom-16 tiles larger.
      map.addSource(streetsSource, vectorSource(ours(basemap.url), { minzoom: 10, maxzoom: 16, attribution }))
      break
    case 'vector-pmtiles':
      map.addSource(streetsSource, { type: 'vector', url: `pmtiles://${ours(basemap.url)}`, attribution })
      break
    case 'pmtiles':
      map.addSource(streetsSource, { type: 'raster', url: `pmtiles://${ours(basemap.url)}`, tileSize: 256, attribution })
      break
    case 'raster':
      map.addSource(streetsSource, { type: 'raster', tiles: [basemap.url], tileSize: 256, attribution })
      break
  }
  const d: Drawn = { config: basemap, theme, lang, layerIds: [] }
  drawn.set(map, d)
  await redraw(map, d)
  return basemap
}

/** Redraws the basemap in another theme or language (the page's dark mode, the UI language). */
export async function restyleBasemap(map: maplibregl.Map, theme: BasemapTheme, lang: BasemapLanguage): Promise<void> {
  const d = drawn.get(map)
  if (!d || (d.theme === theme && d.lang === lang)) return
  d.theme = theme
  d.lang = lang
  await redraw(map, d)
}
