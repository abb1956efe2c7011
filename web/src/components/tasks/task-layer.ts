import * as maplibregl from 'maplibre-gl'
import type { Task } from '../../api/tasks'

/** Colour of a visit on the map by its kind; an overdue one gets a red ring. */
export const taskColours: Record<Task['kind'], string> = { inspect: '#0b5394', revisit: '#6a3d9a', verify: '#1b7837' }

const source = 'tasks'

function collection(tasks: Task[], selectedId: number | null): GeoJSON.FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: tasks.map(t => ({
      type: 'Feature', id: t.id,
      geometry: { type: 'Point', coordinates: [t.lon, t.lat] },
      properties: { id: t.id, kind: t.kind, overdue: t.overdue, done: t.status !== 'open', selected: t.id === selectedId },
    })),
  }
}

/** Draws the visits as large, tappable dots above the premises; `onTap` hears which one was tapped. */
export function addTaskLayer(map: maplibregl.Map, onTap: (id: number) => void): void {
  map.addSource(source, { type: 'geojson', data: collection([], null) })
  map.addLayer({
    id: 'tasks', type: 'circle', source,
    paint: {
      'circle-radius': ['case', ['get', 'selected'], 13, 9] as maplibregl.ExpressionSpecification,
      'circle-color': ['case', ['get', 'done'], '#9aa5b1', ['match', ['get', 'kind'], 'verify', taskColours.verify, 'revisit', taskColours.revisit, taskColours.inspect]] as maplibregl.ExpressionSpecification,
      'circle-stroke-color': ['case', ['get', 'overdue'], '#d7191c', '#ffffff'] as maplibregl.ExpressionSpecification,
      'circle-stroke-width': ['case', ['get', 'overdue'], 3.5, 2] as maplibregl.ExpressionSpecification,
    },
  })
  map.on('click', 'tasks', (e) => {
    const id = e.features?.[0]?.properties?.id
    if (id !== undefined) onTap(Number(id))
  })
  map.on('mouseenter', 'tasks', () => { map.getCanvas().style.cursor = 'pointer' })
  map.on('mouseleave', 'tasks', () => { map.getCanvas().style.cursor = '' })
}

/** Shows these visits, the selected one larger. */
export function setTasks(map: maplibregl.Map, tasks: Task[], selectedId: number | null): void {
  (map.getSource(source) as maplibregl.GeoJSONSource | undefined)?.setData(collection(tasks, selectedId))
}

/** Frames the visits (and where the user is, when known). */
export function fitTasks(map: maplibregl.Map, tasks: Task[], here?: [number, number] | null): void {
  const points = tasks.map(t => [t.lon, t.lat] as [number, number])
  if (here) points.push(here)
  if (!points.length) return
  const b = new maplibregl.LngLatBounds(points[0], points[0])
  for (const p of points) b.extend(p)
  map.fitBounds(b, { padding: 40, maxZoom: 16, duration: 0 })
}
