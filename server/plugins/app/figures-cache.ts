import type { Sql } from '../../db/index.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { DataVersions, VersionName } from './versions.js'

/**
 * Figures (the dashboard's measures, trend and hazard breakdown, the legend's counts) as computed for
 * a key, kept while the data they are computed from is unchanged: migration 027's `figures_version`
 * moves on any write to those tables, and an entry is found only under the version it was computed
 * at. The version is held in memory (versions.ts), so a figure found costs no query: two hundred
 * people opening the dashboard in a meeting cost one computation, not two hundred queued ones.
 *
 * The promise is kept, not its value, so that requests arriving while a figure is being computed wait
 * for that computation instead of starting their own. A failed computation is not kept. `version`
 * names the counter the entries are kept under: the figures' by default, the leads' for their layer.
 *
 * One computation of a key at a time: a request for a newer version than the one being computed
 * waits for it to end, then computes (or joins the computation of) the version current then. Under
 * writes every few seconds, a figure that takes longer than the time between them (the legend's
 * counts scan every premises) was computed for each version side by side, tens at once.
 */
export function figuresCache(versions: DataVersions, maxEntries = 500, version: VersionName = 'figures') {
  const entries = new Map<string, Promise<unknown>>()
  /** The computation under way for each key (unversioned). */
  const computing = new Map<string, Promise<unknown>>()
  /** The entry kept under `versioned`, made the most recently used (the first entry is the one to drop). */
  const found = (versioned: string) => {
    const kept = entries.get(versioned)
    if (kept) {
      entries.delete(versioned)
      entries.set(versioned, kept)
    }
    return kept
  }

  return {
    /**
     * The figure for `key` at the data's current version, computed by `compute` when not kept yet.
     * `at`: the version it is kept under when not the counter's (a box's, versions.boxVersion).
     */
    async get<T>(key: string, compute: () => Promise<T>, at?: () => Promise<number>): Promise<T> {
      // Known before computing: a computation sees data at least as new as the version it is kept under.
      for (;;) {
        const versioned = `${await (at ? at() : versions.current(version))}|${key}`
        const kept = found(versioned)
        if (kept) return kept as Promise<T>
        const before = computing.get(key)
        if (before) {
          // An older version's: once it ends, the version is asked again.
          await before.catch(() => {})
          continue
        }
        const figure = compute()
        entries.set(versioned, figure)
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!)
        computing.set(key, figure)
        figure.catch(() => entries.delete(versioned)).finally(() => {
          if (computing.get(key) === figure) computing.delete(key)
        })
        return figure
      }
    },
    /**
     * What is kept for `key` at the data's current version, if anything, and how to keep a value
     * built elsewhere (an answer streamed while it was read) under that same version: read before
     * the value is, so the value is at least as new as the version it is kept under. While it is
     * built, later entries for the key find it kept (a promise of it): they wait for it rather than
     * build it again. `drop` says it will not be finished (the reader stopped): they are refused
     * (and build it themselves), and the next entry builds it.
     */
    async entry<T>(key: string, at?: () => Promise<number>): Promise<{ kept: Promise<T> | undefined; keep: (value: T) => void; drop: () => void }> {
      const versioned = `${await (at ? at() : versions.current(version))}|${key}`
      const kept = found(versioned) as Promise<T> | undefined
      if (kept) return { kept, keep: () => {}, drop: () => {} }
      let resolve: (value: T) => void = () => {}
      let reject: (e: Error) => void = () => {}
      const building = new Promise<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      building.catch(() => {})
      entries.set(versioned, building)
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!)
      return {
        kept: undefined,
        keep: value => resolve(value),
        drop: () => {
          if (entries.get(versioned) === building) entries.delete(versioned)
          reject(new Error('the answer being built was not finished'))
        },
      }
    },
    /**
     * The version to keep a figure of `towns` under (get's `at`): the last that changed any of them,
     * or everything. Of no town: the last change of everything (the areas, the campaign, the
     * dictionary), for what reads only those.
     */
    inTowns: (towns: readonly number[]) => () => versions.townsVersion(towns),
    /**
     * A figure made of a part per town (`compute(town)`, undefined for nothing there), each part kept
     * under the last figures version that changed its town: after an inspector's write in one town
     * the district's figures compute that town's part again and take the others' as kept, where the
     * whole district was counted again after every write anywhere.
     */
    async byTown<T>(key: string, towns: readonly number[], compute: (town: number) => Promise<T | undefined>): Promise<Map<number, T>> {
      const parts = await Promise.all(towns.map(t =>
        this.get(`${key}|town ${t}`, () => compute(t), this.inTowns([t]))))
      return new Map(towns.flatMap((t, i) => parts[i] === undefined ? [] : [[t, parts[i]!] as const]))
    },
    /** How many figures are kept (the tests look). */
    size: () => entries.size,
  }
}

export type FiguresCache = ReturnType<typeof figuresCache>

/**
 * The towns whose parts make a jurisdiction's figures under a filter naming towns or not (`byTown`):
 * every town the district has had, so that premises of a town since merged away are counted too.
 */
export async function townsOf(sql: Sql, cache: FiguresCache, scope: Jurisdiction, filter: { towns?: number[] }): Promise<number[]> {
  const all = await cache.get('town ids', async () =>
    (await sql<{ id: number }[]>`select id from admin_area where level = 'town' order by id`).map(r => r.id), cache.inTowns([]))
  return all.filter(t => (scope.kind !== 'town' || t === scope.id) && (!filter.towns?.length || filter.towns.includes(t)))
}
