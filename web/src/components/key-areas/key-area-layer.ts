import type * as maplibregl from 'maplibre-gl'

/** Key-area outlines on a map: one source and its fill and line layers, replaced on each call. */
export function showKeyAreas(map: maplibregl.Map, data: GeoJSON.FeatureCollection, id = 'key-areas', opts: { dashed?: boolean; colour?: string } = {}) {
  const source = map.getSource(id) as maplibregl.GeoJSONSource | undefined
  if (source) {
    source.setData(data)
    return
  }
  map.addSource(id, { type: 'geojson', data })
  const colour = opts.colour ?? '#7B3294'
  map.addLayer({ id: `${id}-fill`, type: 'fill', source: id, paint: { 'fill-color': colour, 'fill-opacity': opts.dashed ? 0 : 0.08 } }, 'premises-agg')
  map.addLayer({
    id: `${id}-line`, type: 'line', source: id,
    paint: { 'line-color': colour, 'line-width': 2.5, ...(opts.dashed ? { 'line-dasharray': [2, 2] } : {}) },
  }, 'premises-agg')
}

export function boundsOfGeometry(g: { type: string; coordinates: unknown }): [number, number, number, number] {
  const pts = (g.type === 'MultiPolygon' ? (g.coordinates as number[][][][]).flat(2) : (g.coordinates as number[][][]).flat(1)) as number[][]
  const xs = pts.map(p => p[0]!)
  const ys = pts.map(p => p[1]!)
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]
}
