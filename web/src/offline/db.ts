import { type DBSchema, type IDBPDatabase, openDB } from 'idb'

/** A write the phone keeps until the server has answered it (see outbox.ts). */
export interface OutboxItem {
  /** Its place in the queue: writes are sent in this order. */
  seq?: number
  /** Made by the phone for this write: sent again, the server answers the first (a replay never duplicates). */
  clientId: string
  /** Who recorded it: only they send it (the server judges their session). */
  userId: number
  username: string
  kind: 'premises.create' | 'premises.update' | 'hazard.create' | 'hazard.step' | 'photo' | 'task.complete'
  /** The premises it is about: its id, or the clientId of its creation queued before it. */
  premisesId?: number
  premisesRef?: string
  /** The hazard it is about (steps, hazard photos): its id, or the clientId of its creation queued before it. */
  hazardId?: number
  hazardRef?: string
  action?: 'refer' | 'rectify' | 'verify'
  /** The visit closed by hand (task.complete). */
  taskId?: number
  stage?: 'premises' | 'found' | 'rectified'
  body?: Record<string, unknown>
  /** A photo, already shrunk, kept as it will be sent. */
  blob?: Blob
  width?: number
  height?: number
  /** What the sync screen calls it: the address, the hazard item. */
  label: string
  createdAt: string
  /**
   * pending: to be sent; conflict: the server says somebody else changed the record (409/412);
   * refused: the server refused it for another reason (gone, outside the jurisdiction, invalid).
   */
  state: 'pending' | 'conflict' | 'refused'
  problem?: { status: number; reason?: string; message: string }
}

/** An answer kept for use without network, under its path and query. */
export interface KeptAnswer {
  key: string
  body: unknown
  savedAt: string
}

/** What was downloaded for offline use, and when. */
export interface OfflineArea {
  userId: number
  downloadedAt: string
  bbox: [number, number, number, number]
  premises: number
  hazards: number
  tiles: number
  bytes: number
  seconds: number
}

interface OfflineDb extends DBSchema {
  outbox: { key: number; value: OutboxItem; indexes: { clientId: string } }
  /** The server's id of every record created from the queue, by the clientId it was created with. */
  refs: { key: string; value: { clientId: string; id: number; seq?: number } }
  answers: { key: string; value: KeptAnswer }
  area: { key: string; value: OfflineArea }
}

let opened: Promise<IDBPDatabase<OfflineDb>> | undefined

/** The phone's own database (IndexedDB): the queue of writes, the downloaded area, kept answers. */
export function offlineDb(): Promise<IDBPDatabase<OfflineDb>> {
  opened ??= openDB<OfflineDb>('grd-offline', 1, {
    upgrade(db) {
      db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true }).createIndex('clientId', 'clientId', { unique: true })
      db.createObjectStore('refs', { keyPath: 'clientId' })
      db.createObjectStore('answers', { keyPath: 'key' })
      db.createObjectStore('area')
    },
  })
  return opened
}
