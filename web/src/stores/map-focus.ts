import { defineStore } from 'pinia'
import { ref } from 'vue'

/** Where the map is asked to go: a premises (its panel opens) or an area's extent. */
export type MapFocus =
  | { kind: 'premises'; id: number; lon: number; lat: number }
  | { kind: 'bounds'; bbox: [number, number, number, number] }

/**
 * A request for the map from elsewhere on the page (the search box in the header): the map view
 * takes it when it is shown, at once or after the router has brought it up.
 */
export const useMapFocusStore = defineStore('mapFocus', () => {
  const pending = ref<MapFocus | null>(null)
  /** Bumped with every request, so that asking twice for the same place still moves the map. */
  const serial = ref(0)

  function focus(target: MapFocus) {
    pending.value = target
    serial.value++
  }

  /** The request, once: the map view takes it and it is gone. */
  function take(): MapFocus | null {
    const p = pending.value
    pending.value = null
    return p
  }

  return { pending, serial, focus, take }
})
