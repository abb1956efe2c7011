import type { ExpressionSpecification, LayerSpecification } from 'maplibre-gl'

/** Light or dark: the basemap follows the page's theme. */
export type BasemapTheme = 'light' | 'dark'

/** The label language: Chinese names, or the pinyin/English name where the street map has one. */
export type BasemapLanguage = 'zh' | 'en'

interface Palette {
  land: string
  water: string
  park: string
  campus: string
  factory: string
  block: string
  casing: string
  road: string
  minor: string
  path: string
  label: string
  waterLabel: string
  halo: string
}

/**
 * Quiet colours that sit under our layers: grey-white roads, soft blue water, land a shade off the
 * page, labels small and grey, so that the premises' status colours stay the loudest thing on the map.
 */
const palettes: Record<BasemapTheme, Palette> = {
  light: {
    land: '#f3f1ec', water: '#c5dbec', park: '#dcead2', campus: '#ece6dc', factory: '#e6e3e9', block: '#e9e5dd',
    casing: '#d6d1c7', road: '#ffffff', minor: '#fbfaf7', path: '#cfc9bd', label: '#6e6a62', waterLabel: '#5b82a6', halo: '#ffffff',
  },
  dark: {
    land: '#161c24', water: '#1d3348', park: '#1b2b22', campus: '#232a33', factory: '#21252c', block: '#1e252e',
    casing: '#0f1419', road: '#3a4553', minor: '#2e3844', path: '#3d4754', label: '#98a4b1', waterLabel: '#6f93b5', halo: '#10161f',
  },
}

/** The source id of the demo street map. */
export const streetsSource = 'basemap'

function labelField(lang: BasemapLanguage): ExpressionSpecification {
  return lang === 'en' ? ['coalesce', ['get', 'name_en'], ['get', 'name']] : ['get', 'name']
}

const widthByClass = (scale: number): ExpressionSpecification => ['interpolate', ['exponential', 1.6], ['zoom'],
  10, ['match', ['get', 'class'], 'trunk', 1.6 * scale, 'primary', 1.1 * scale, 0.4 * scale],
  14, ['match', ['get', 'class'], 'trunk', 5 * scale, 'primary', 4 * scale, 'secondary', 3 * scale, 'residential', 1.6 * scale, 0.8 * scale],
  17, ['match', ['get', 'class'], 'trunk', 18 * scale, 'primary', 14 * scale, 'secondary', 11 * scale, 'residential', 7 * scale, 2 * scale],
]

/**
 * The demo street map's layers (source layers water, landuse, waterway, roads) in a theme and a
 * language. Labels use one font stack, served by us for Latin; Chinese is drawn with the device's fonts.
 */
export function streetsLayers(theme: BasemapTheme, lang: BasemapLanguage): LayerSpecification[] {
  const p = palettes[theme]
  const text = { 'text-font': ['Noto Sans Regular'], 'text-field': labelField(lang) }
  return [
    { id: 'bm-land', type: 'background', paint: { 'background-color': p.land } },
    { id: 'bm-landuse', type: 'fill', source: streetsSource, 'source-layer': 'landuse', paint: {
      'fill-color': ['match', ['get', 'class'], 'park', p.park, 'campus', p.campus, 'factory', p.factory, p.block],
    } },
    { id: 'bm-water', type: 'fill', source: streetsSource, 'source-layer': 'water', paint: { 'fill-color': p.water } },
    { id: 'bm-paths', type: 'line', source: streetsSource, 'source-layer': 'roads', filter: ['==', ['get', 'class'], 'path'],
      paint: { 'line-color': p.path, 'line-width': 1, 'line-dasharray': [3, 2] } },
    { id: 'bm-roads-casing', type: 'line', source: streetsSource, 'source-layer': 'roads', minzoom: 12, filter: ['!=', ['get', 'class'], 'path'],
      layout: { 'line-cap': 'round', 'line-join': 'round' }, paint: { 'line-color': p.casing, 'line-width': widthByClass(1.25) } },
    { id: 'bm-roads', type: 'line', source: streetsSource, 'source-layer': 'roads', filter: ['!=', ['get', 'class'], 'path'],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': ['match', ['get', 'class'], 'residential', p.minor, p.road], 'line-width': widthByClass(1) } },
    { id: 'bm-waterway-labels', type: 'symbol', source: streetsSource, 'source-layer': 'waterway', minzoom: 12,
      layout: { ...text, 'symbol-placement': 'line', 'text-size': 11, 'text-letter-spacing': 0.2 },
      paint: { 'text-color': p.waterLabel, 'text-halo-color': p.halo, 'text-halo-width': 1.2 } },
    { id: 'bm-road-labels', type: 'symbol', source: streetsSource, 'source-layer': 'roads', minzoom: 13,
      filter: ['all', ['has', 'name'], ['any', ['>=', ['zoom'], 15], ['!=', ['get', 'class'], 'residential']]],
      layout: { ...text, 'symbol-placement': 'line', 'text-size': ['interpolate', ['linear'], ['zoom'], 13, 10, 17, 12], 'symbol-spacing': 300 },
      paint: { 'text-color': p.label, 'text-halo-color': p.halo, 'text-halo-width': 1.4 } },
    { id: 'bm-area-labels', type: 'symbol', source: streetsSource, 'source-layer': 'landuse', minzoom: 14,
      filter: ['all', ['has', 'name'], ['in', ['get', 'class'], ['literal', ['campus', 'factory', 'park']]]],
      layout: { ...text, 'text-size': 11, 'text-max-width': 8 },
      paint: { 'text-color': p.label, 'text-halo-color': p.halo, 'text-halo-width': 1.2 } },
    { id: 'bm-water-labels', type: 'symbol', source: streetsSource, 'source-layer': 'water', minzoom: 13,
      filter: ['all', ['has', 'name'], ['==', ['get', 'class'], 'pond']],
      layout: { ...text, 'text-size': 10 },
      paint: { 'text-color': p.waterLabel, 'text-halo-color': p.halo, 'text-halo-width': 1.2 } },
  ] as LayerSpecification[]
}
