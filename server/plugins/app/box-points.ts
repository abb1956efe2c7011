/**
 * A box's points (GET /api/premises?bbox=...) kept as their rows, so that a write inside the box
 * reads again the map areas it changed, not the box. A town-sized box holds about 170,000 premises at
 * a million, of which an answer gives the first 10,000 by id: reading them again after every write
 * inside it took 190 ms alone and over a second under load, and every request for the box waited for
 * it. Areas are data_change's (zoom-16 tiles, x * 65536 + y, as map_area gives them): which changed
 * since a version is known from the versions' change log (versions.boxChangedSince).
 */

/** Features by id, each with the map area its premises is in: the first `limit + 1` of a box (one past the limit tells it was cut). */
export interface PointRows {
  ids: number[]
  areas: number[]
  /** GeoJSON Feature text. */
  features: string[]
}

export const noRows = (): PointRows => ({ ids: [], areas: [], features: [] })

/** The collection of the first `limit` rows, as pointsJson and the streamed pieces write it. */
export function collectionText(rows: PointRows, limit: number): string {
  const n = Math.min(rows.ids.length, limit)
  return `{"type":"FeatureCollection","features":[${rows.features.slice(0, n).join(',')}],"numberReturned":${n},"truncated":${rows.ids.length > limit}}`
}

/**
 * `base` (the first `limit + 1` rows of a box) with the rows of the `changed` areas replaced by
 * `fresh` (those areas' rows now, by id; when `base` was cut, only those up to its last id). Undefined
 * when the result cannot be told from these: `base` was cut and fewer rows than it had remain up to
 * its last id (rows past it, in areas that did not change, were never read).
 */
export function patchRows(base: PointRows, limit: number, changed: readonly number[], fresh: PointRows): PointRows | undefined {
  const gone = new Set(changed)
  const out = noRows()
  const push = (from: PointRows, i: number) => {
    out.ids.push(from.ids[i]!)
    out.areas.push(from.areas[i]!)
    out.features.push(from.features[i]!)
  }
  let i = 0
  let j = 0
  while (out.ids.length <= limit && (i < base.ids.length || j < fresh.ids.length)) {
    if (i < base.ids.length && gone.has(base.areas[i]!)) {
      i++
      continue
    }
    if (j >= fresh.ids.length || (i < base.ids.length && base.ids[i]! < fresh.ids[j]!)) push(base, i++)
    else push(fresh, j++)
  }
  return base.ids.length > limit && out.ids.length <= limit ? undefined : out
}

/** How a box's rows are read, for one key (jurisdiction, filter, day, limit). */
export interface BoxReads {
  limit: number
  /** The box's version now (versions.boxVersion). */
  version: () => Promise<number>
  /** The areas of the box changed after `version`, or null when not known (versions.boxChangedSince). */
  changedSince: (version: number) => number[] | null
  /** Every row, streamed to the caller as they come; `keep` is given them all at the end, `drop` called if that never comes. */
  stream: (keep?: (rows: PointRows | undefined, text: string) => void, drop?: () => void, maxRows?: number) => AsyncGenerator<string>
  /** The rows of `areas` (up to id `maxId` when given), by id. */
  areas: (areas: number[], maxId: number | undefined) => Promise<PointRows>
  /** Every row, whole. */
  whole: () => Promise<PointRows>
}

/** More changed areas than this, and the box is read again whole (one area is a few thousand premises at most). */
const maxPatchAreas = 16
/**
 * Rows kept beside the text up to this many (the answer's default limit is 10,000): the rows are a
 * second copy of the features, and a town's 100,000 (18 MB) asked for in full is kept as text only,
 * read again whole after a write inside it.
 */
const maxKeptRows = 20_001

interface Kept { rows: PointRows | undefined; text: string }
interface Held {
  version: number
  kept: Promise<Kept>
  /** False once it is known to be kept as text only (a box read again streamed, not patched). */
  rows?: boolean
}

/**
 * Boxes' rows and text kept under the box's version, at most `maxEntries` (the least recently used
 * let go). A request for a newer version patches the kept rows (patchRows) and keeps the result
 * under it; requests for a version being read or patched wait for it.
 */
export function boxPointsCache(maxEntries = 16) {
  const held = new Map<string, Held>()
  /** Made the most recently used: the first entry is the one to let go. */
  const touch = (key: string, h: Held) => {
    held.delete(key)
    held.set(key, h)
  }
  const hold = (key: string, h: Held) => {
    touch(key, h)
    if (held.size > maxEntries) held.delete(held.keys().next().value!)
    h.kept.then((k) => {
      h.rows = k.rows !== undefined
    }, () => {
      if (held.get(key) === h) held.delete(key)
    })
  }

  return {
    /** The box's collection: its kept text, patched or whole, or its pieces streamed as they are read (kept once read). */
    async answer(key: string, box: BoxReads): Promise<string | AsyncGenerator<string>> {
      const version = await box.version()
      const h = held.get(key)
      if (h && h.version >= version) {
        touch(key, h)
        try {
          return (await h.kept).text
        }
        catch {
          // Its read failed (or its reader went before it ended): this request reads for itself.
          return box.stream()
        }
      }
      const changed = h && h.rows !== false && box.changedSince(h.version)
      if (h && changed && changed.length <= maxPatchAreas) {
        const whole = async () => {
          const rows = await box.whole()
          return { rows: rows.ids.length <= maxKeptRows ? rows : undefined, text: collectionText(rows, box.limit) }
        }
        const kept = h.kept.then(async (base) => {
          if (changed.length === 0) return base
          if (!base.rows) return whole()
          const cut = base.rows.ids.length > box.limit
          const fresh = await box.areas(changed, cut ? base.rows.ids[box.limit] : undefined)
          const rows = patchRows(base.rows, box.limit, changed, fresh)
          return rows ? { rows, text: collectionText(rows, box.limit) } : whole()
        }, whole)
        hold(key, { version, kept })
        return (await kept).text
      }
      let keep: (value: Kept) => void = () => {}
      let drop: (e: Error) => void = () => {}
      const kept = new Promise<Kept>((resolve, reject) => {
        keep = resolve
        drop = reject
      })
      kept.catch(() => {})
      hold(key, { version, kept })
      return box.stream((rows, text) => keep({ rows, text }),
        () => drop(new Error('the box\'s points were not read to their end')), maxKeptRows)
    },
    /** How many boxes are kept (the tests look). */
    size: () => held.size,
  }
}

export type BoxPointsCache = ReturnType<typeof boxPointsCache>
