import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { ApiError, patchJson, postFile, postJson } from '../api/client'
import { newClientId } from '../api/photos'
import { offlineDb, type OutboxItem } from '../offline/db'
import { syncAfterSignInKey } from '../offline/names'
import { useSessionStore } from './session'

/** A write as a form hands it over: the queue adds who, when and its place. */
export type Draft = Omit<OutboxItem, 'seq' | 'userId' | 'username' | 'createdAt' | 'state' | 'problem' | 'clientId'> & { clientId?: string }

/** A write refused while the user was still looking at it (sent at once): nothing of it stays queued. */
export class RefusedWrite extends ApiError {
  constructor(e: ApiError, public readonly draftIndex: number, public readonly sent: Map<string, number>) {
    super(e.status, e.message, e.reason)
  }
}


/** Statuses that say the server is away for a moment, like no network: the write stays queued. */
const away = new Set([0, 502, 503, 504])

/**
 * After a send that met no network or a server away while the phone says it is online, the next
 * try: after 2 s, then twice as long each time up to the half-minute round. A phone whose network
 * has just come back often fails its first request (the radio, the intranet's gateway), and waiting
 * for the next half-minute round left the inspector looking at "will be sent" for no reason.
 */
const retryFirstMs = 2000
const retryMostMs = 30_000

/** The record a write is about, so that a refused write holds back the later ones on that record only. */
function recordOf(i: OutboxItem): string[] {
  const keys: string[] = []
  if (i.premisesId !== undefined || i.premisesRef !== undefined) keys.push(i.premisesId !== undefined ? `p${i.premisesId}` : `p${i.premisesRef}`)
  if (i.kind === 'premises.create') keys.push(`p${i.clientId}`)
  if (i.kind === 'hazard.create') keys.push(`h${i.clientId}`)
  if (i.hazardId !== undefined || i.hazardRef !== undefined) keys.push(i.hazardId !== undefined ? `h${i.hazardId}` : `h${i.hazardRef}`)
  if (i.taskId !== undefined) keys.push(`t${i.taskId}`)
  return keys
}

/**
 * The phone's queue of writes (IndexedDB): every premises, hazard, step and photo recorded is put
 * here first, then sent in order, each with its client id, so a write survives a reload, a closed
 * browser and a network lost mid-save, and a replay never duplicates. A write the server refuses
 * while the user waits is handed back to the form; one refused later, from the queue, stays for
 * the sync screen (conflicts 409/412 and other refusals), never dropped.
 */
export const useOutboxStore = defineStore('outbox', () => {
  const session = useSessionStore()
  const items = ref<OutboxItem[]>([])
  /**
   * Whether `items` has been read from the phone's store since the page loaded: until then an empty
   * list says nothing (the sync screen said "nothing waiting" for a moment after a reload and a
   * sign-in, while the writes were still being read).
   */
  const loaded = ref(false)
  const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine)
  const syncing = ref(false)
  /** The server asked for a sign-in while sending (the session expired): the queue waits for it. */
  const needsSignIn = ref(false)
  /** One sentence for the screen after a save: sent, or kept on the phone. */
  const notice = ref<{ kind: 'queued' | 'synced'; n: number } | null>(null)
  let flushing: Promise<void> | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let retryMs = retryFirstMs

  const waiting = computed(() => items.value.length)
  const problems = computed(() => items.value.filter(i => i.state !== 'pending').length)

  async function reload() {
    const db = await offlineDb()
    items.value = await db.getAll('outbox')
    loaded.value = true
    // Read by the sign-in redirect (App.vue) when the session ends; with no one signed in any more,
    // the last user's writes are the ones that wait.
    const me = session.me
    if (items.value.some(i => i.state === 'pending' && (!me || i.userId === me.id))) sessionStorage.setItem(syncAfterSignInKey, '1')
    else sessionStorage.removeItem(syncAfterSignInKey)
  }

  /** For a signed-in user: sends what waits, and from then on whenever the network comes back and every half minute. */
  async function start() {
    if (!timer) listen()
    await reload()
    void flush()
  }

  function listen() {
    window.addEventListener('online', () => {
      online.value = true
      // The server judges the session again from here: an expired one answers 401 and asks for a sign-in.
      session.offline = false
      retryMs = retryFirstMs
      void flushAgain()
    })
    window.addEventListener('offline', () => {
      online.value = false
    })
    timer = setInterval(() => {
      if (items.value.some(i => i.state === 'pending')) void flush()
    }, 30_000)
  }

  async function enqueue(drafts: Draft[]): Promise<OutboxItem[]> {
    const me = session.me!
    const db = await offlineDb()
    const tx = db.transaction('outbox', 'readwrite')
    const stored: OutboxItem[] = []
    for (const d of drafts) {
      const item: OutboxItem = {
        ...d,
        // A form's body may hold Vue's reactive proxies, which IndexedDB cannot store: it travels as JSON anyway.
        body: d.body === undefined ? undefined : JSON.parse(JSON.stringify(d.body)) as Record<string, unknown>,
        clientId: d.clientId ?? newClientId(), userId: me.id, username: me.username, createdAt: new Date().toISOString(), state: 'pending',
      }
      item.seq = await tx.store.add(item)
      stored.push(item)
    }
    await tx.done
    await reload()
    return stored
  }

  /** The server's id of a record created from the queue, by its client id. */
  async function refOf(clientId: string | undefined): Promise<number | undefined> {
    if (!clientId) return undefined
    return (await (await offlineDb()).get('refs', clientId))?.id
  }

  /** Sends one write; answers the id of what it created (or changed). Throws ApiError when it did not go. */
  async function send(i: OutboxItem): Promise<number> {
    const premisesId = i.premisesId ?? await refOf(i.premisesRef)
    const hazardId = i.hazardId ?? await refOf(i.hazardRef)
    const body = { ...i.body, clientId: i.clientId }
    switch (i.kind) {
      case 'premises.create':
        return (await postJson<{ id: number }>('/premises', body)).id
      case 'premises.update':
        return (await patchJson<{ id: number }>(`/premises/${premisesId}`, body)).id
      case 'hazard.create':
        return (await postJson<{ id: number }>(`/premises/${premisesId}/hazards`, body)).id
      case 'hazard.step':
        return (await postJson<{ id: number }>(`/hazards/${hazardId}/${i.action}`, body)).id
      case 'task.complete':
        return (await postJson<{ id: number }>(`/tasks/${i.taskId}/complete`, body)).id
      case 'photo':
        return (i.stage === 'premises'
          ? await postFile<{ id: number }>(`/premises/${premisesId}/photos`, i.blob!, { clientId: i.clientId })
          : await postFile<{ id: number }>(`/hazards/${hazardId}/photos`, i.blob!, { stage: i.stage, clientId: i.clientId })).id
    }
  }

  /** Whether the records a write needs exist on the server yet (their creation was sent). */
  async function ready(i: OutboxItem): Promise<boolean> {
    if (i.premisesRef && i.premisesId === undefined && await refOf(i.premisesRef) === undefined) return false
    if (i.hazardRef && i.hazardId === undefined && await refOf(i.hazardRef) === undefined) return false
    return true
  }

  /** One more round soon, after a send that met no network or a server away (retryFirstMs). */
  function retrySoon() {
    // With no network at all the 'online' event starts the next round.
    if (retryTimer || !navigator.onLine) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      void flush()
    }, retryMs)
    retryMs = Math.min(retryMs * 2, retryMostMs)
  }

  /** Sends what waits; a round already under way read the queue, or met the network, before now: one more after it. */
  async function flushAgain(): Promise<void> {
    const running = flushing !== undefined
    await flush()
    if (running) await flush()
  }

  /** Sends the queue in order, as far as the network and the server allow. */
  function flush(): Promise<void> {
    flushing ??= (async () => {
      syncing.value = true
      needsSignIn.value = false
      let sent = 0
      try {
        const db = await offlineDb()
        const held = new Set<string>()
        for (const item of await db.getAll('outbox')) {
          const me = session.me
          if (!me || session.offline && !navigator.onLine) break
          if (item.userId !== me.id) continue
          if (item.state !== 'pending' || recordOf(item).some(k => held.has(k)) || !await ready(item)) {
            for (const k of recordOf(item)) held.add(k)
            continue
          }
          try {
            const id = await send(item)
            const tx = db.transaction(['outbox', 'refs'], 'readwrite')
            if (item.kind === 'premises.create' || item.kind === 'hazard.create') await tx.objectStore('refs').put({ clientId: item.clientId, id, seq: item.seq })
            await tx.objectStore('outbox').delete(item.seq!)
            await tx.done
            sent++
            retryMs = retryFirstMs
            online.value = true
            session.offline = false
          }
          catch (e) {
            const err = e instanceof ApiError ? e : new ApiError(0, String(e))
            if (away.has(err.status)) {
              online.value = err.status !== 0 ? online.value : false
              retrySoon()
              break
            }
            if (err.status === 401) {
              needsSignIn.value = true
              break
            }
            // "Will be sent" is no longer true of it: the badge and the sync screen say what happened.
            notice.value = null
            item.state = err.status === 409 || err.status === 412 ? 'conflict' : 'refused'
            item.problem = { status: err.status, reason: err.reason, message: err.message }
            await db.put('outbox', item)
            for (const k of recordOf(item)) held.add(k)
          }
        }
      }
      finally {
        syncing.value = false
        flushing = undefined
        await reload()
        if (sent && !items.value.length) notice.value = { kind: 'synced', n: sent }
      }
    })()
    return flushing
  }

  /**
   * Keeps the writes of one save on the phone, then sends the queue if there is a network. Answers
   * 'sent' when all of them went, 'queued' when they wait for the network. A write of this save
   * that the server refuses is taken out with the ones after it and thrown (RefusedWrite): the
   * user is still looking at the form and can act on the server's sentence there.
   */
  async function submit(drafts: Draft[]): Promise<{ outcome: 'sent' | 'queued'; ids: Map<string, number> }> {
    const stored = await enqueue(drafts)
    needsSignIn.value = false
    if (navigator.onLine) await flushAgain()
    const db = await offlineDb()
    const ids = new Map<string, number>()
    for (const s of stored) {
      const id = await refOf(s.clientId)
      if (id !== undefined) ids.set(s.clientId, id)
    }
    const left = (await Promise.all(stored.map(s => db.get('outbox', s.seq!)))).filter((x): x is OutboxItem => !!x)
    const failed = left.findIndex(x => x.state !== 'pending')
    if (failed >= 0) {
      const f = left[failed]!
      const index = stored.findIndex(s => s.seq === f.seq)
      for (const s of stored.slice(index)) await db.delete('outbox', s.seq!)
      await reload()
      throw new RefusedWrite(new ApiError(f.problem!.status, f.problem!.message, f.problem!.reason), index, ids)
    }
    if (left.length) notice.value = { kind: 'queued', n: left.length }
    return { outcome: left.length ? 'queued' : 'sent', ids }
  }

  /** Sends a write the server refused again (after the record was looked at, or the session renewed). */
  async function retry(seq: number) {
    const db = await offlineDb()
    const item = await db.get('outbox', seq)
    if (!item) return
    item.state = 'pending'
    delete item.problem
    await db.put('outbox', item)
    await reload()
    await flush()
  }

  /** The writes that cannot go without this one: those on a record its creation makes. */
  function dependents(seq: number): OutboxItem[] {
    const item = items.value.find(i => i.seq === seq)
    if (!item || (item.kind !== 'premises.create' && item.kind !== 'hazard.create')) return []
    const made = new Set([item.clientId])
    const out: OutboxItem[] = []
    for (const i of items.value) {
      if (i.seq! <= seq) continue
      if ((i.premisesRef && made.has(i.premisesRef)) || (i.hazardRef && made.has(i.hazardRef))) {
        out.push(i)
        if (i.kind === 'hazard.create') made.add(i.clientId)
      }
    }
    return out
  }

  /** Gives up a write, with the ones that depend on it (the sync screen asks first). */
  async function discard(seq: number) {
    const db = await offlineDb()
    for (const i of [...dependents(seq), { seq }]) await db.delete('outbox', i.seq!)
    await reload()
  }

  /** The server's id of a record this phone created (once sent), to open it. */
  const idOf = refOf

  return { items, loaded, online, syncing, needsSignIn, notice, waiting, problems, start, reload, flush, submit, retry, discard, dependents, idOf }
})
