import * as maplibregl from 'maplibre-gl'
import type { SupervisionItem } from '../../api/supervision'

/**
 * Supervision items on the map, coloured by how far they escalated: listed (blue), level 1
 * (orange), level 2 and up (red); an overdue item has a thick dark ring, a closed one is grey.
 * Colours from the Okabe–Ito set, told apart by people with colour-blindness too.
 */
export const levelColours = ['#0072B2', '#E69F00', '#D55E00'] as const
export const levelColour = (level: number) => levelColours[Math.min(level, levelColours.length - 1)]!

const source = 'supervision'

function collection(items: SupervisionItem[], selectedId: number | null): GeoJSON.FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: items.map(i => ({
      type: 'Feature', id: i.id,
      geometry: { type: 'Point', coordinates: [i.lon, i.lat] },
      properties: { id: i.id, level: Math.min(i.level, 2), overdue: i.daysOverdue > 0, closed: i.state === 'closed', selected: i.id === selectedId },
    })),
  }
}

/** Draws the items as large, tappable dots above the premises; `onTap` hears which one was tapped. */
export function addSupervisionLayer(map: maplibregl.Map, onTap: (id: number) => void): void {
  map.addSource(source, { type: 'geojson', data: collection([], null) })
  map.addLayer({
    id: 'supervision', type: 'circle', source,
    paint: {
      'circle-radius': ['case', ['get', 'selected'], 14, 10] as maplibregl.ExpressionSpecification,
      'circle-color': ['case', ['get', 'closed'], '#9aa5b1', ['match', ['get', 'level'], 0, levelColours[0], 1, levelColours[1], levelColours[2]]] as maplibregl.ExpressionSpecification,
      'circle-stroke-color': ['case', ['get', 'overdue'], '#1f1f1f', '#ffffff'] as maplibregl.ExpressionSpecification,
      'circle-stroke-width': ['case', ['get', 'overdue'], 3.5, 2] as maplibregl.ExpressionSpecification,
    },
  })
  map.on('click', 'supervision', (e) => {
    const id = e.features?.[0]?.properties?.id
    if (id !== undefined) onTap(Number(id))
  })
  map.on('mouseenter', 'supervision', () => { map.getCanvas().style.cursor = 'pointer' })
  map.on('mouseleave', 'supervision', () => { map.getCanvas().style.cursor = '' })
}

/** Shows these items, the selected one larger. */
export function setSupervisionItems(map: maplibregl.Map, items: SupervisionItem[], selectedId: number | null): void {
  (map.getSource(source) as maplibregl.GeoJSONSource | undefined)?.setData(collection(items, selectedId))
}

/** Frames the items. */
export function fitSupervision(map: maplibregl.Map, items: SupervisionItem[]): void {
  if (!items.length) return
  const b = new maplibregl.LngLatBounds([items[0]!.lon, items[0]!.lat], [items[0]!.lon, items[0]!.lat])
  for (const i of items) b.extend([i.lon, i.lat])
  map.fitBounds(b, { padding: 50, maxZoom: 16, duration: 0 })
}
