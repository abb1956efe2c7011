import type * as maplibregl from 'maplibre-gl'
import type { SnapToCustom } from 'terra-draw'

interface Pixel { x: number; y: number }

/** The nearest point to p on the segment a–b, in screen pixels. */
function nearestOnSegment(p: Pixel, a: Pixel, b: Pixel): Pixel {
  const dx = b.x - a.x
  const dy = b.y - a.y
  const len = dx * dx + dy * dy
  const t = len === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len))
  return { x: a.x + t * dx, y: a.y + t * dy }
}

/** The lines of a rendered feature's geometry (rings of polygons, line strings), in degrees. */
function linesOf(g: GeoJSON.Geometry): GeoJSON.Position[][] {
  switch (g.type) {
    case 'LineString': return [g.coordinates]
    case 'MultiLineString':
    case 'Polygon': return g.coordinates
    case 'MultiPolygon': return g.coordinates.flat()
    default: return []
  }
}

/**
 * Where a point drawn at `at` (screen pixels) snaps to among lines already on the map: a corner
 * within `tolerance` pixels first (so that neighbouring key areas share their corners), else the
 * nearest point of an edge within it, else nowhere.
 */
export function snapPoint(at: Pixel, lines: Pixel[][], tolerance: number): Pixel | null {
  let corner: { d: number; p: Pixel } | null = null
  let edge: { d: number; p: Pixel } | null = null
  for (const line of lines) {
    for (let i = 0; i < line.length; i++) {
      const v = line[i]!
      const dv = Math.hypot(v.x - at.x, v.y - at.y)
      if (dv <= tolerance && (!corner || dv < corner.d)) corner = { d: dv, p: v }
      if (i === 0) continue
      const q = nearestOnSegment(at, line[i - 1]!, v)
      const dq = Math.hypot(q.x - at.x, q.y - at.y)
      if (dq <= tolerance && (!edge || dq < edge.d)) edge = { d: dq, p: q }
    }
  }
  return corner?.p ?? edge?.p ?? null
}

/** The map layers a drawing snaps to: existing key areas, and the roads of a vector basemap. */
function snapLayers(map: maplibregl.Map): string[] {
  return map.getStyle().layers.map(l => l.id)
    .filter(id => id === 'key-areas-line' || id === 'bm-roads' || (id.startsWith('bm-pm-roads') && !id.includes('label')))
}

/**
 * terra-draw's custom snapping for a polygon being drawn or a corner being dragged: the cursor snaps
 * to the corners and edges of the existing key areas and to the basemap's roads drawn near it
 * (12 pixels), as key-area boundaries in reality follow roads, rivers and blocks. The area being
 * edited (`except`) is left out: its saved outline would pull a dragged corner back where it was.
 */
export function snapToDrawnLines(map: maplibregl.Map, opts: { except?: number | null; tolerance?: number } = {}): SnapToCustom {
  const tolerance = opts.tolerance ?? 12
  return (event: { containerX: number; containerY: number }) => {
    const layers = snapLayers(map)
    if (layers.length === 0) return undefined
    const at = { x: event.containerX, y: event.containerY }
    const features = map.queryRenderedFeatures([[at.x - tolerance, at.y - tolerance], [at.x + tolerance, at.y + tolerance]], { layers })
      .filter(f => opts.except === undefined || opts.except === null || f.layer.id !== 'key-areas-line' || f.properties.id !== opts.except)
    const lines = features.flatMap(f => linesOf(f.geometry)).map(line => line.map(([lng, lat]) => map.project([lng!, lat!])))
    const snapped = snapPoint(at, lines, tolerance)
    if (!snapped) return undefined
    const { lng, lat } = map.unproject([snapped.x, snapped.y])
    // terra-draw keeps at most 9 decimals and refuses to load back (undo) a polygon with more.
    const round = (v: number) => Math.round(v * 1e8) / 1e8
    return [round(lng), round(lat)]
  }
}
