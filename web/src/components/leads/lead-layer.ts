import type * as maplibregl from 'maplibre-gl'

/** Colour of a lead on the map by its score band (A: most likely a group rental). */
export const bandColours: Record<string, string> = { A: '#b2182b', B: '#ef8a62', C: '#fddbc7', D: '#d1d1d1' }

const source = 'leads'

/** The grey of a visited lead. */
export const visitedColour = '#7f7f7f'

/** Draws the leads as dots coloured by band, the visited ones grey and small; `onTap` hears which one was tapped, and where. */
export function addLeadLayer(map: maplibregl.Map, onTap: (id: number, at: maplibregl.LngLat) => void): void {
  map.addSource(source, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } })
  map.addLayer({
    id: 'leads', type: 'circle', source,
    paint: {
      'circle-radius': ['match', ['get', 'band'], 'A', 8, 'B', 7, 5] as maplibregl.ExpressionSpecification,
      'circle-color': ['case', ['==', ['get', 'status'], 'visited'], visitedColour,
        ['match', ['get', 'band'], 'A', bandColours.A!, 'B', bandColours.B!, 'C', bandColours.C!, bandColours.D!]] as maplibregl.ExpressionSpecification,
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 1.5,
    },
  })
  map.on('click', 'leads', (e) => {
    const id = e.features?.[0]?.properties?.id
    if (id !== undefined) onTap(Number(id), e.lngLat)
  })
  map.on('mouseenter', 'leads', () => { map.getCanvas().style.cursor = 'pointer' })
  map.on('mouseleave', 'leads', () => { map.getCanvas().style.cursor = '' })
}

/** Shows these leads (the map layer's GeoJSON as the API serves it). */
export function setLeads(map: maplibregl.Map, data: GeoJSON.FeatureCollection): void {
  (map.getSource(source) as maplibregl.GeoJSONSource | undefined)?.setData(data)
}
