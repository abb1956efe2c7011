import type * as maplibregl from 'maplibre-gl'

/** What a heat map shows: the subjects the analysis page's clusters are found among. */
export type HeatSubject = 'group-rentals' | 'open-hazards'

/** How the heat map is drawn: its kernel's radius (px), intensity, opacity, and whether over or under the points. */
export interface HeatSettings { radius: number; intensity: number; opacity: number; order: 'under' | 'over' }

/** The heat map's layers: cells of counts where the tiles carry them, points where they carry points. */
export const heatLayers = ['heat-agg', 'heat-raw'] as const

/** The colours from few to many, shared by the layers and their legend. */
export const heatRamp: [number, string][] = [[0, 'rgba(255,237,160,0)'], [0.15, '#ffeda0'], [0.35, '#fed976'], [0.55, '#feb24c'], [0.75, '#f03b20'], [1, '#bd0026']]

/**
 * The map filter a subject adds to the map's own. Group rentals are those the measures count: recorded
 * as one or a rental meeting the rule (so only these two kinds can be), found and not deregistered on
 * the day (`groupRental`, which the tiles work out). Open hazards are the premises with an open one
 * (the tiles carry premises, so a premises with three open hazards weighs as one).
 */
const subjectFilter: Record<HeatSubject, { key: 'kind' | 'status'; values: string[]; extra: Record<string, string> }> = {
  'group-rentals': { key: 'kind', values: ['group_rental', 'rental'], extra: { groupRental: 'true' } },
  'open-hazards': { key: 'status', values: ['open_general', 'open_major', 'overdue'], extra: {} },
}

/** The tiles' query for a subject within the map's filters, or null when the filters leave none of it. */
export function heatQuery(subject: HeatSubject, query: Record<string, string>): Record<string, string> | null {
  const { key, values, extra } = subjectFilter[subject]
  const chosen = query[key]?.split(',')
  const kept = chosen ? values.filter(v => chosen.includes(v)) : values
  return kept.length ? { ...query, [key]: kept.join(','), ...extra } : null
}

/** Where the heat layers go: under the premises' cells, or right over the premises (under labels and analysis results). */
function beforeFor(map: maplibregl.Map, order: HeatSettings['order']): string | undefined {
  if (order === 'under') return 'premises-agg'
  const ids = map.getStyle().layers.map(l => l.id).filter(id => !(heatLayers as readonly string[]).includes(id))
  return ids[ids.indexOf('premises-selected') + 1]
}

/** Adds the heat map (hidden) reading the premises tiles at `tiles`. */
export function addHeat(map: maplibregl.Map, tiles: string, s: HeatSettings): void {
  map.addSource('heat', { type: 'vector', tiles: [tiles], minzoom: 0, maxzoom: 16 })
  const colour = ['interpolate', ['linear'], ['heatmap-density'], ...heatRamp.flat()] as unknown as maplibregl.ExpressionSpecification
  const before = beforeFor(map, s.order)
  map.addLayer({
    id: 'heat-agg', type: 'heatmap', source: 'heat', 'source-layer': 'premises_agg', layout: { visibility: 'none' },
    // A lone premises counts for half a full cell, thirty-six or more for a full one: single
    // premises still show in a quiet district, and a dense block does not drown the rest.
    paint: { 'heatmap-weight': ['interpolate', ['linear'], ['sqrt', ['get', 'count']], 0, 0, 1, 0.5, 6, 1], 'heatmap-color': colour },
  }, before)
  map.addLayer({
    id: 'heat-raw', type: 'heatmap', source: 'heat', 'source-layer': 'premises', minzoom: 14, layout: { visibility: 'none' },
    paint: { 'heatmap-weight': 0.5, 'heatmap-color': colour },
  }, before)
  restyleHeat(map, s)
}

/** The heat map's radius, intensity, opacity and place in the layers' order. */
export function restyleHeat(map: maplibregl.Map, s: HeatSettings): void {
  const before = beforeFor(map, s.order)
  for (const id of heatLayers) {
    map.setPaintProperty(id, 'heatmap-radius', id === 'heat-raw' ? Math.max(4, s.radius * 0.8) : s.radius)
    map.setPaintProperty(id, 'heatmap-intensity', s.intensity)
    map.setPaintProperty(id, 'heatmap-opacity', s.opacity)
    map.moveLayer(id, before)
  }
}

/** Whether the heat map is drawn over or under the premises, as the map's style orders them. */
export function heatPosition(map: maplibregl.Map): 'over' | 'under' {
  const ids = map.getStyle().layers.map(l => l.id)
  return ids.indexOf('heat-raw') > ids.indexOf('premises') ? 'over' : 'under'
}

/** The premises the heat map's loaded tiles hold (cells' counts and points, those on tile edges counted on each tile). */
export function heatWeight(map: maplibregl.Map): number {
  const cells = map.querySourceFeatures('heat', { sourceLayer: 'premises_agg' })
  const points = map.querySourceFeatures('heat', { sourceLayer: 'premises' })
  return cells.reduce((a, f) => a + Number(f.properties.count ?? 0), 0) + points.length
}
