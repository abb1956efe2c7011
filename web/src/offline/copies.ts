import type { OfflineCopies } from '../api/client'
import { offlineDb } from './db'

/**
 * The answers kept on the phone for use without network: the reference data the map and the
 * forms need (areas, police stations, places, the dictionary, the campaign, the configuration, my
 * visits), kept whenever they are read, and the premises and hazards of the area downloaded for
 * offline use (download.ts), also refreshed whenever they are read online.
 */
const kept = /^\/(?:areas|police-stations|pois|hazard-dictionary|campaign|config|tasks\/mine|premises\/\d+|premises\/\d+\/hazards)$/
/** Of a premises in the copy, what the download does not carry: answered as nothing recorded. */
const notCarried = /^\/premises\/(\d+)\/(?:photos|enforcement|residents)$/

/** The key of an answer: its path and query, less what only sorts it (where the phone is). */
export function answerKey(path: string, query: string): string {
  const q = new URLSearchParams(query)
  q.delete('near')
  q.sort()
  const s = q.toString()
  return s ? `${path}?${s}` : path
}

/** Keeps an answer under its path and query (download.ts writes the area's premises this way). */
export async function keepAnswer(path: string, query: string, body: unknown): Promise<void> {
  const db = await offlineDb()
  await db.put('answers', { key: answerKey(path, query), body, savedAt: new Date().toISOString() })
}

export const offlineCopies: OfflineCopies = {
  remember(path, query, body) {
    if (kept.test(path)) void keepAnswer(path, query, body).catch(() => undefined)
  },
  async recall(path, query) {
    try {
      const db = await offlineDb()
      const hit = await db.get('answers', answerKey(path, query))
      if (hit) return { body: hit.body }
      const m = notCarried.exec(path)
      if (m && await db.get('answers', `/premises/${m[1]}`)) return { body: [] }
    }
    catch {
      // No IndexedDB (a private window): there is no copy.
    }
    return undefined
  },
}
