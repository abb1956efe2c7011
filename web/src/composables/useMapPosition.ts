import type { Map as MapLibre } from 'maplibre-gl'
import { ref, watch } from 'vue'
import { useRoute, useRouter } from 'vue-router'

/** The page-address parameter of the map's position: "lon,lat,zoom". */
export const positionParam = 'at'

/** "lon,lat,zoom" of a map: five decimals (a metre) and two for the zoom keep links short. */
export function formatPosition(map: Pick<MapLibre, 'getCenter' | 'getZoom'>): string {
  const c = map.getCenter()
  return `${c.lng.toFixed(5)},${c.lat.toFixed(5)},${map.getZoom().toFixed(2)}`
}

/** A position from the page address, or null when there is none or it is not one. */
export function parsePosition(value: unknown): { center: [number, number]; zoom: number } | null {
  if (typeof value !== 'string') return null
  const [lon, lat, zoom] = value.split(',').map(Number)
  if (![lon, lat, zoom].every(n => Number.isFinite(n)) || Math.abs(lat!) > 85 || Math.abs(lon!) > 180 || zoom! < 0 || zoom! > 22) return null
  return { center: [lon!, lat!], zoom: zoom! }
}

/**
 * Keeps the map's centre and zoom in the page address beside the filters, so that a copied link
 * (or a saved view) opens the same place: the address moves the map, and the map writes where it
 * came to rest. `position` is what the address says now (read by the browser tests).
 */
export function useMapPosition() {
  const route = useRoute()
  const router = useRouter()
  const position = ref('')

  function attach(map: MapLibre) {
    const at = parsePosition(route.query[positionParam])
    if (at) map.jumpTo(at)
    position.value = formatPosition(map)
    map.on('moveend', () => {
      const now = formatPosition(map)
      position.value = now
      if (route.query[positionParam] !== now) void router.replace({ query: { ...route.query, [positionParam]: now } })
    })
    // A link pasted or a saved view chosen while the page is open.
    watch(() => route.query[positionParam], (value) => {
      const next = parsePosition(value)
      if (next && value !== formatPosition(map)) map.jumpTo(next)
    })
  }

  return { attach, position }
}
