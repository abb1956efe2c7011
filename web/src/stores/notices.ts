import { defineStore } from 'pinia'
import { ref } from 'vue'
import { type Notice, noticeStreamUrl } from '../api/notices'
import { useMapFiltersStore } from './map-filters'

/**
 * The signed-in user's unread count and the notices that arrived while the page was open, from
 * the server's live stream; the stream's `figures` event makes every page showing figures load
 * them again (through the map filters' data version, which they already follow). EventSource
 * reconnects by itself after a dropped connection (the server asks for 3 s).
 */
export const useNoticesStore = defineStore('notices', () => {
  const unread = ref(0)
  const arrived = ref<Notice[]>([])
  const live = ref(false)
  let source: EventSource | null = null

  function connect() {
    if (source || typeof EventSource === 'undefined') return
    source = new EventSource(noticeStreamUrl)
    source.addEventListener('open', () => { live.value = true })
    source.addEventListener('error', () => { live.value = false })
    source.addEventListener('hello', (e) => {
      unread.value = (JSON.parse((e as MessageEvent<string>).data) as { unread: number }).unread
    })
    source.addEventListener('notice', (e) => {
      arrived.value = [JSON.parse((e as MessageEvent<string>).data) as Notice, ...arrived.value]
      unread.value++
    })
    source.addEventListener('figures', () => useMapFiltersStore().dataChanged())
  }

  function disconnect() {
    source?.close()
    source = null
    live.value = false
    arrived.value = []
  }

  return { unread, arrived, live, connect, disconnect }
})
