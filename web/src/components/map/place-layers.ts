import type * as maplibregl from 'maplibre-gl'
import type { KeyAreaCollection } from '../../api/key-areas'
import type { StationCollection } from '../../api/reference'
import { poiColour } from './status-style'

/** The colour key areas are drawn in everywhere (the key-area pages use it too). */
export const keyAreaColour = '#7B3294'

/** The font our labels name (Latin glyphs served by us; CJK drawn with local fonts). */
export const labelFont = ['Noto Sans Regular']

/** A name in the UI language: the English one when there is one and the UI is English. */
export function nameIn(lang: 'zh' | 'en'): maplibregl.ExpressionSpecification {
  return lang === 'en' ? ['coalesce', ['get', 'nameEn'], ['get', 'nameZh']] : ['get', 'nameZh']
}

/**
 * Key areas, police-station areas and points of interest as labelled layers of the map, above the
 * district's outlines and below the premises (`before`). Police stations are labelled at their
 * label point; the police-station and point-of-interest layers start hidden (the layer box shows them).
 */
export function addPlaceLayers(map: maplibregl.Map, before: string, stations: StationCollection, lang: 'zh' | 'en', dark: boolean): void {
  const halo = dark ? '#10161f' : '#ffffff'
  map.addSource('police-station-labels', {
    type: 'geojson',
    data: { type: 'FeatureCollection', features: stations.features.map(f => ({ type: 'Feature', properties: f.properties, geometry: { type: 'Point', coordinates: f.properties.labelPoint } })) },
  })
  map.addLayer({ id: 'police-stations-fill', type: 'fill', source: 'police-stations', layout: { visibility: 'none' }, paint: { 'fill-color': '#2b6cb0', 'fill-opacity': 0.03 } }, before)
  map.addLayer({
    id: 'police-stations-label', type: 'symbol', source: 'police-station-labels', layout: { 'visibility': 'none', 'text-field': nameIn(lang), 'text-font': labelFont, 'text-size': 12 },
    paint: { 'text-color': '#2b6cb0', 'text-halo-color': halo, 'text-halo-width': 1.5 },
  }, before)
  // Empty until the key areas arrive (the map sets them with setKeyAreas).
  map.addSource('key-areas', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } })
  map.addSource('key-area-labels', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } })
  map.addLayer({ id: 'key-areas-fill', type: 'fill', source: 'key-areas', paint: { 'fill-color': keyAreaColour, 'fill-opacity': 0.07 } }, before)
  map.addLayer({ id: 'key-areas-line', type: 'line', source: 'key-areas', paint: { 'line-color': keyAreaColour, 'line-width': 2, 'line-dasharray': [4, 2] } }, before)
  // Named once per area, at a point inside it: a symbol on the polygon itself is placed once per
  // tile the polygon crosses, so a large area's name repeats along its outline.
  map.addLayer({
    id: 'key-areas-label', type: 'symbol', source: 'key-area-labels', minzoom: 11,
    layout: { 'symbol-placement': 'point', 'text-field': nameIn(lang), 'text-font': labelFont, 'text-size': 12, 'text-max-width': 8 },
    paint: { 'text-color': keyAreaColour, 'text-halo-color': halo, 'text-halo-width': 1.6 },
  }, before)
  map.addLayer({
    id: 'pois-label', type: 'symbol', source: 'pois', minzoom: 12,
    layout: { 'visibility': 'none', 'text-field': nameIn(lang), 'text-font': labelFont, 'text-size': 11, 'text-offset': [0, 1.1], 'text-anchor': 'top', 'text-max-width': 9 },
    paint: { 'text-color': poiColour, 'text-halo-color': halo, 'text-halo-width': 1.5 },
  })
}

/** The key areas on the map: their outlines, and their names at their label points. */
export function setKeyAreas(map: maplibregl.Map, areas: KeyAreaCollection): void {
  ;(map.getSource('key-areas') as maplibregl.GeoJSONSource).setData(areas as GeoJSON.FeatureCollection)
  const labels: GeoJSON.FeatureCollection = {
    type: 'FeatureCollection',
    // An offline copy saved before the areas carried label points has none: those go unnamed.
    features: areas.features.filter(f => f.properties.labelPoint?.length === 2)
      .map(f => ({ type: 'Feature', id: f.id, properties: f.properties, geometry: { type: 'Point', coordinates: f.properties.labelPoint } })),
  }
  ;(map.getSource('key-area-labels') as maplibregl.GeoJSONSource).setData(labels)
}

/** The place layers' labels in another language or theme. */
export function restylePlaceLayers(map: maplibregl.Map, lang: 'zh' | 'en', dark: boolean): void {
  for (const id of ['police-stations-label', 'key-areas-label', 'pois-label']) {
    if (!map.getLayer(id)) continue
    map.setLayoutProperty(id, 'text-field', nameIn(lang))
    map.setPaintProperty(id, 'text-halo-color', dark ? '#10161f' : '#ffffff')
  }
}

