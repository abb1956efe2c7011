import type { Photo } from '../api/photos'
import type { Hazard } from '../api/premises'
import { offlineDb, type OutboxItem } from './db'

/**
 * What the queue holds, shown where it belongs before the server has it: a hazard recorded
 * offline appears on its premises (with an id below zero, -its place in the queue), a step
 * taken offline moves its hazard on, a photo taken offline is shown from the phone's copy.
 * Everything shown this way is marked pending.
 */

/** A hazard as the panel shows it, perhaps still on the phone only. */
export type ShownHazard = Hazard & { pending?: boolean }
/** A photo as the panel shows it, perhaps still on the phone only. */
export type ShownPhoto = Photo & { pending?: boolean }

async function queued(): Promise<OutboxItem[]> {
  try {
    return (await (await offlineDb()).getAll('outbox')).filter(i => i.state !== 'refused')
  }
  catch {
    return []
  }
}

/** Each dictionary item's category, from the dictionary kept on the phone (read with the network before). */
async function dictionaryCategories(): Promise<Map<string, string>> {
  try {
    const kept = await (await offlineDb()).get('answers', '/hazard-dictionary')
    const d = kept?.body as { categories: { code: string; items: { code: string }[] }[] } | undefined
    return new Map(d?.categories.flatMap(c => c.items.map(i => [i.code, c.code] as const)) ?? [])
  }
  catch {
    return new Map()
  }
}

const stepStatus = { refer: 'referred', rectify: 'rectified', verify: 'verified' } as const

/** The hazard a queued write is about, as the panel knows it: its id, or -(the queue place of its creation). */
function hazardOf(i: OutboxItem, creations: OutboxItem[]): number | undefined {
  if (i.hazardId !== undefined) return i.hazardId
  const c = creations.find(x => x.clientId === i.hazardRef)
  return c ? -c.seq! : undefined
}

/** The premises' hazards with the ones recorded and the steps taken on this phone, not yet sent. */
export async function withQueuedHazards(premisesId: number, hazards: Hazard[]): Promise<ShownHazard[]> {
  const items = await queued()
  const categoryOf = await dictionaryCategories()
  const creations = items.filter(i => i.kind === 'hazard.create')
  const shown: ShownHazard[] = hazards.map(h => ({ ...h, events: [...h.events ?? []] }))
  for (const c of creations.filter(i => i.premisesId === premisesId)) {
    const b = c.body as { itemCode: string; severity: 'general' | 'major'; otherText?: string | null; deadline?: string | null; departmentCode?: string }
    shown.push({
      id: -c.seq!, premisesId, itemCode: b.itemCode, categoryCode: categoryOf.get(b.itemCode) ?? 'other', otherText: b.otherText ?? null,
      severity: b.severity, status: 'found', departmentCode: b.departmentCode ?? '', foundAt: c.createdAt, referredAt: null,
      rectifiedAt: null, verifiedAt: null, deadline: b.deadline ?? null, overdue: false, pending: true,
      events: [{ status: 'found', at: c.createdAt, departmentCode: b.departmentCode ?? null, note: null, username: c.username }],
    })
  }
  for (const s of items.filter(i => i.kind === 'hazard.step')) {
    const h = shown.find(x => x.id === hazardOf(s, creations))
    if (!h || !s.action) continue
    const note = (s.body?.note as string | null | undefined) ?? null
    h.status = stepStatus[s.action]
    if (s.action === 'refer') h.referredAt = s.createdAt
    if (s.action === 'rectify') h.rectifiedAt = s.createdAt
    if (s.action === 'verify') h.verifiedAt = s.createdAt
    h.pending = true
    h.events!.push({ status: stepStatus[s.action], at: s.createdAt, departmentCode: null, note, username: s.username })
  }
  return shown
}

const previews = new Map<number, string>()

/** The premises' photos with the ones taken on this phone and not yet sent (shown from the phone's copy). */
export async function withQueuedPhotos(premisesId: number, photos: Photo[]): Promise<ShownPhoto[]> {
  const items = await queued()
  const creations = items.filter(i => i.kind === 'hazard.create')
  const shown: ShownPhoto[] = [...photos]
  for (const p of items.filter(i => i.kind === 'photo' && i.premisesId === premisesId && i.blob)) {
    if (!previews.has(p.seq!)) previews.set(p.seq!, URL.createObjectURL(p.blob!))
    const url = previews.get(p.seq!)!
    shown.push({
      id: -p.seq!, clientId: p.clientId, premisesId, hazardId: p.stage === 'premises' ? null : hazardOf(p, creations) ?? null,
      stage: p.stage!, width: p.width ?? 0, height: p.height ?? 0, createdAt: p.createdAt, createdBy: p.username, url, thumbUrl: url, pending: true,
    })
  }
  return shown
}

/** The outbox's reference to a hazard the panel shows: its id, or the client id of its queued creation (id below zero). */
export async function hazardTarget(id: number): Promise<{ hazardId: number } | { hazardRef: string } | { hazardId: number; sent: true }> {
  if (id > 0) return { hazardId: id }
  const db = await offlineDb()
  const creation = await db.get('outbox', -id)
  if (creation) return { hazardRef: creation.clientId }
  // Sent meanwhile: its id on the server.
  for (const r of await db.getAll('refs')) if (r.seq === -id) return { hazardId: r.id, sent: true }
  throw new Error('hazard not found')
}
