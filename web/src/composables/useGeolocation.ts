import { ref } from 'vue'
import { useI18n } from 'vue-i18n'

/** Where the device is: WGS-84 degrees, as the Geolocation API gives them, and how sure it is. */
export interface DevicePosition {
  lon: number
  lat: number
  /** Radius in metres within which the device is, with 95% confidence. */
  accuracy: number
  at: number
}

/**
 * The device's position from the browser's Geolocation API (GPS on a phone). It asks the user
 * once; a refusal, no fix or a timeout is said in words, never as a raw error.
 */
export function useGeolocation() {
  const { t } = useI18n()
  const position = ref<DevicePosition | null>(null)
  const error = ref('')
  const busy = ref(false)

  function message(e: GeolocationPositionError | Error): string {
    if (!('code' in e)) return t('location.unavailable')
    if (e.code === e.PERMISSION_DENIED) return t('location.denied')
    if (e.code === e.TIMEOUT) return t('location.timeout')
    return t('location.unavailable')
  }

  /** Asks for a fresh position (at most 10 s old, 20 s to get it); null when there is none. */
  async function locate(): Promise<DevicePosition | null> {
    error.value = ''
    if (!('geolocation' in navigator)) {
      error.value = t('location.unsupported')
      return null
    }
    busy.value = true
    try {
      const p = await new Promise<GeolocationPosition>((resolve, reject) =>
        navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, maximumAge: 10_000, timeout: 20_000 }))
      position.value = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy, at: p.timestamp }
      return position.value
    }
    catch (e) {
      error.value = message(e as GeolocationPositionError)
      return null
    }
    finally {
      busy.value = false
    }
  }

  return { position, error, busy, locate }
}
