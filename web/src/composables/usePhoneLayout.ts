import { onBeforeUnmount, ref, type Ref } from 'vue'

/** The widest screen laid out as a phone: the map fills it, panels become bottom sheets. */
export const phoneMaxWidth = 480
const query = `(max-width: ${phoneMaxWidth}px)`

/**
 * Whether the screen is a phone's (at most 480 CSS pixels wide), following rotation and resizing.
 * The same width drives the phone rules of the style sheets, so script and CSS agree.
 */
export function usePhoneLayout(): Ref<boolean> {
  const media = window.matchMedia(query)
  const phone = ref(media.matches)
  const update = (e: MediaQueryListEvent) => {
    phone.value = e.matches
  }
  media.addEventListener('change', update)
  onBeforeUnmount(() => media.removeEventListener('change', update))
  return phone
}
