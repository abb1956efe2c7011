import fp from 'fastify-plugin'
import type { Database } from '../../db/index.js'
import { tileRange } from '../../domain/tiles.js'

/**
 * The counters caches key on: `data` for the map's tiles (data_version), `figures` for the
 * dashboard's figures (figures_version), `leads` for the leads' map layer (lead_version), `sessions`
 * for the sessions looked up (session_version).
 */
export type VersionName = 'data' | 'figures' | 'leads' | 'sessions'
type Versions = Record<VersionName, number>

const channel = 'grd_versions'
/** Zooms at which the changed areas are kept: a tile looks them up at the deepest of these not deeper than itself. */
const areaZooms = [16, 14, 12, 10] as const
/** Areas a process keeps before it lets them all go (as if everything had changed): a district has a few thousand at zoom 16. */
const maxAreas = 200_000
/** Versions a read catches up on one by one; further behind, everything counts as changed. */
const maxCatchUp = 1000
const areaKey = (z: number, x: number, y: number) => z * 2 ** 34 + x * 2 ** 17 + y

/** The words '<key> <key> ...' or '*' (everywhere), as an announcement and the read of a change table give them. */
function parseKeys(words: string[]): number[] | null {
  return words.length === 0 || words[0] === '*' ? null : words.filter(w => w !== '').map(Number)
}

/**
 * Where each version of a counter changed the data (data_change's areas, figures_change's towns),
 * kept as the last version that changed each key: a cache keys on the newest over what it covers.
 * `spread` gives the keys an announced one is kept under (an area at several zooms). Versions come in
 * order; one whose keys are not known counts as everywhere.
 */
function changeLog(spread: (key: number) => number[]) {
  /** The last version whose keys are known (undefined before the first read). */
  let applied: number | undefined
  /** The last version that changed everywhere (or the first read's). */
  let everywhereAt = 0
  const last = new Map<number, number>()
  return {
    applied: () => applied,
    /** Version `version` changed `keys`, or everywhere (null). */
    changed(version: number, keys: number[] | null) {
      applied = version
      if (keys === null || last.size > maxAreas) {
        everywhereAt = version
        last.clear()
        return
      }
      for (const k of keys) for (const s of spread(k)) last.set(s, version)
    },
    /** What a read found: version `version` and the changes after `applied` it listed ('<version> <keys>', at most maxCatchUp + 1). */
    caughtUp(version: number, changes: string[]) {
      if (applied === undefined) {
        applied = version
        everywhereAt = version
        return
      }
      if (version <= applied) return
      if (version - applied > maxCatchUp) return this.changed(version, null)
      const listed = new Map(changes.map((c) => {
        const [v, ...keys] = c.split(' ')
        return [Number(v), parseKeys(keys)] as const
      }))
      for (let v = applied + 1; v <= version; v++) this.changed(v, listed.get(v) ?? null)
    },
    /** An announcement of version `version` with its words: false when one was missed before it (or before the first read). */
    announced(version: number, words: string[]): boolean {
      if (applied !== undefined && version === applied + 1) this.changed(version, parseKeys(words))
      else if (applied === undefined || version > applied + 1) return false
      return true
    },
    /** Whether what changed after version `since` is known key by key (nothing changed everywhere since). */
    knownSince: (since: number) => applied !== undefined && everywhereAt <= since,
    /** The last version that changed `key` (0: none known). */
    lastOf: (key: number) => last.get(key) ?? 0,
    /** The newest version over `keys`, and any that changed everywhere. */
    newest(keys: Iterable<number>): number {
      let newest = everywhereAt
      for (const k of keys) newest = Math.max(newest, last.get(k) ?? 0)
      return newest
    },
  }
}

const tableOf: Record<string, VersionName> = { data_version: 'data', figures_version: 'figures', lead_version: 'leads', session_version: 'sessions' }

/**
 * The data versions held in memory, so that a cache hit costs no query. The database announces each
 * new version when it commits (server/db/functions/versions.sql, LISTEN/NOTIFY on PostgreSQL, the
 * embedded session's own notifications in-process); this process's own writes forget the versions at
 * once (`forget`), so that their writer's next request never meets the figures from before them.
 *
 * A version is only kept while notifications are known to arrive: before listening and after the
 * listening connection closed, every request reads the counters (one query) until it listens again.
 * A read that another announcement overtook is used for its own request and not kept, so a slow
 * read never puts an older version back.
 *
 * The data version also says where it changed the map (data_change, migration 049): the tiles of zoom
 * 16 it touched. A tile's version (`tileVersion`) is the last one that changed its area, so a write
 * in one street leaves every other tile cached: before, any write anywhere made every tile of the
 * district anew, and inspectors write all day. The areas come with each announcement, in version
 * order; a version missed (announcements lost, or the first read) is caught up from data_change by
 * the next read, and one whose areas are not known counts as changing everywhere. The figures version
 * says the same of towns (figures_change, migration 051): a town's part of the district's figures is
 * kept under the last version that changed that town (`townsVersion`).
 */
export function dataVersions(db: Database) {
  let known: Versions | undefined
  let live = false
  /** Moves whenever what is known changes without a read: reads begun before are not kept. */
  let epoch = 0
  /** The read under way and the epoch it began in: a read begun before a commit is never joined after it. */
  let reading: { epoch: number; versions: Promise<Versions> } | undefined
  let listening: Promise<unknown> | undefined
  let stop: (() => void) | undefined
  let reads = 0
  /** Where each data version changed the map: the zoom-16 areas, kept at every zoom of areaZooms. */
  const areas = changeLog((a) => {
    const x = Math.floor(a / 65536)
    const y = a % 65536
    return areaZooms.map(z => areaKey(z, x >> (16 - z), y >> (16 - z)))
  })
  /** Which towns each figures version changed. */
  const towns = changeLog(t => [t])
  const logOf: Partial<Record<VersionName, ReturnType<typeof changeLog>>> = { data: areas, figures: towns }

  const forget = () => {
    known = undefined
    epoch++
  }

  function notify(payload: string) {
    const [table, value, ...words] = payload.split(' ')
    const name = tableOf[table!]
    if (!name) return
    // Announcements come in version order: one missed (or come before the first read) is read.
    if (!(logOf[name]?.announced(Number(value), words) ?? true)) return forget()
    if (known) known[name] = Math.max(known[name], Number(value))
    else epoch++
  }

  const read = (): Promise<Versions> => {
    if (reading?.epoch === epoch) return reading.versions
    const own = { epoch } as { epoch: number; versions: Promise<Versions> }
    own.versions = (async () => {
      try {
        reads++
        const [row] = await db.sql<(Versions & { areas: string[]; towns: string[] })[]>`
          select (select version from data_version) as data, (select version from figures_version) as figures,
                 (select version from lead_version) as leads, (select version from session_version) as sessions,
                 array(select c.version || ' ' || coalesce(array_to_string(c.areas, ' '), '*') from data_change c
                       where c.version > ${areas.applied() ?? null}::bigint order by c.version limit ${maxCatchUp + 1}) as areas,
                 array(select c.version || ' ' || coalesce(array_to_string(c.towns, ' '), '*') from figures_change c
                       where c.version > ${towns.applied() ?? null}::bigint order by c.version limit ${maxCatchUp + 1}) as towns`
        areas.caughtUp(Number(row!.data), row!.areas)
        towns.caughtUp(Number(row!.figures), row!.towns)
        return { data: Number(row!.data), figures: Number(row!.figures), leads: Number(row!.leads), sessions: Number(row!.sessions) }
      }
      finally {
        if (reading === own) reading = undefined
      }
    })()
    reading = own
    return own.versions
  }

  function listen() {
    listening ??= db.listen(channel, {
      notify,
      listening: () => {
        live = true
        forget()
      },
      lost: () => {
        live = false
        forget()
      },
    }).then((s) => { stop = s }, () => { listening = undefined })
    return listening
  }

  /** The version `name` at now: from memory when known, otherwise read from the database. */
  async function current(name: VersionName): Promise<number> {
    if (known && live) return known[name]
    if (!listening) await listen()
    const at = epoch
    const row = await read()
    if (live && at === epoch && !known) known = { ...row }
    return row[name]
  }

  /** The newest version over the areas ax0..ax1 x ay0..ay1 kept at zoom `at`, and any that changed everywhere. */
  function newestIn(at: number, ax0: number, ax1: number, ay0: number, ay1: number): number {
    const keys: number[] = []
    for (let ax = ax0; ax <= ax1; ax++) {
      for (let ay = ay0; ay <= ay1; ay++) keys.push(areaKey(at, ax, ay))
    }
    return areas.newest(keys)
  }

  /**
   * The data version of the tile z/x/y: the last that changed the premises it shows (those within
   * its buffer too), looked up among the areas two zooms deeper (or the deepest kept), so that a
   * write near its edge counts for the neighbour only when it is within a quarter of the tile's
   * width: about 2 tiles of each zoom changed by a write, not the 9 that areas of the tile's own
   * zoom would change. A tile of a zoom below 8 spans more than the areas are kept for: the version.
   */
  async function tileVersion(z: number, x: number, y: number): Promise<number> {
    const version = await current('data')
    const at = areaZooms.find(a => a <= Math.min(16, z + 2))
    if (areas.applied() === undefined || at === undefined) return version
    // The tile and a sixteenth of it around (its points' buffer is a 64th, its cells' at most a 32nd):
    // at most 6 x 6 areas.
    const scale = 2 ** (at - z)
    const margin = 1 / 16
    return newestIn(at, Math.floor((x - margin) * scale), Math.floor((x + 1 + margin) * scale),
      Math.floor((y - margin) * scale), Math.floor((y + 1 + margin) * scale))
  }

  /**
   * The data version of the premises in a box [west, south, east, north] (WGS 84): the last that
   * changed an area it overlaps (a tile of zoom 16 around it too), looked up at the deepest zoom
   * where the box spans at most 16 x 16 areas.
   */
  async function boxVersion(box: [number, number, number, number]): Promise<number> {
    const version = await current('data')
    if (areas.applied() === undefined) return version
    const r = tileRange(box, 16)
    const [x0, x1, y0, y1] = [r.x0 - 1, r.x1 + 1, r.y0 - 1, r.y1 + 1]
    const at = areaZooms.find(a => Math.max(x1 - x0, y1 - y0) >> (16 - a) < 16)
    if (at === undefined) return version
    const s = 16 - at
    return newestIn(at, x0 >> s, x1 >> s, y0 >> s, y1 >> s)
  }

  /**
   * The areas (data_change's zoom-16 tiles, x * 65536 + y) boxVersion looks at for `box` that changed
   * after version `since` (kept for the box then): a box's points read again there only. Null when
   * that is not known (everywhere changed since, or the box spans more areas than `max`).
   */
  function boxChangedSince(box: [number, number, number, number], since: number, max = 4096): number[] | null {
    const r = tileRange(box, 16)
    const [x0, x1, y0, y1] = [r.x0 - 1, r.x1 + 1, r.y0 - 1, r.y1 + 1]
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > max || !areas.knownSince(since)) return null
    const changed: number[] = []
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) {
        if (areas.lastOf(areaKey(16, x, y)) > since) changed.push(x * 65536 + y)
      }
    }
    return changed
  }

  /**
   * The areas (data_change's zoom-16 tiles, x * 65536 + y) under the tile z/x/y and a sixteenth of it
   * around (where tileVersion looks) that changed after version `since`: a kept tile's cells are read
   * again there only. Walked down from the areas of zoom 10, into those changed since only. Null when
   * that is not known (everywhere changed since), or more than `max` changed.
   */
  function tileChangedSince(z: number, x: number, y: number, since: number, max = 64): number[] | null {
    if (z > 16 || !areas.knownSince(since)) return null
    const scale = 2 ** (16 - z)
    const margin = 1 / 16
    const [x0, x1] = [Math.floor((x - margin) * scale), Math.floor((x + 1 + margin) * scale)]
    const [y0, y1] = [Math.floor((y - margin) * scale), Math.floor((y + 1 + margin) * scale)]
    const levels = [...areaZooms].reverse()
    const changed: number[] = []
    const walk = (level: number, ax: number, ay: number): void => {
      const at = levels[level]!
      const s = 16 - at
      if (((ax + 1) << s) <= x0 || ax << s > x1 || ((ay + 1) << s) <= y0 || ay << s > y1) return
      if (areas.lastOf(areaKey(at, ax, ay)) <= since) return
      if (at === 16) {
        changed.push(ax * 65536 + ay)
        return
      }
      const f = 2 ** (levels[level + 1]! - at)
      for (let i = 0; i < f; i++) {
        for (let j = 0; j < f; j++) walk(level + 1, ax * f + i, ay * f + j)
      }
    }
    const top = 16 - levels[0]!
    for (let ax = x0 >> top; ax <= x1 >> top; ax++) {
      for (let ay = y0 >> top; ay <= y1 >> top; ay++) walk(0, ax, ay)
    }
    return changed.length > max ? null : changed
  }

  /**
   * The figures version of the towns `ids`: the last that changed any of them (figures_change, or
   * everywhere). A town's part of the district's figures is kept under it.
   */
  async function townsVersion(ids: readonly number[]): Promise<number> {
    const version = await current('figures')
    return towns.applied() === undefined ? version : towns.newest(ids)
  }

  return {
    current,
    tileVersion,
    boxVersion,
    boxChangedSince,
    tileChangedSince,
    townsVersion,

    /** Forgets the versions: this process has just committed a write, whose announcement may still be on its way. */
    forget,

    /** Reads the versions again now (a test after writing through another connection than the app's). */
    async refresh(): Promise<void> {
      forget()
      await current('data')
    },

    /** How many times the counters were read from the database (the tests look). */
    reads: () => reads,

    close() {
      stop?.()
      live = false
      forget()
    },
  }
}

export type DataVersions = ReturnType<typeof dataVersions>

declare module 'fastify' {
  interface FastifyInstance {
    versions: DataVersions
  }
}

export default fp(async (app) => {
  const versions = dataVersions(app.db)
  app.decorate('versions', versions)
  app.addHook('onClose', async () => versions.close())
}, { name: 'versions', dependencies: ['db'] })
