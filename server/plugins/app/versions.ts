import fp from 'fastify-plugin'
import type { Database } from '../../db/index.js'

/**
 * The counters caches key on: `data` for the map's tiles (data_version), `figures` for the
 * dashboard's figures (figures_version), `leads` for the leads' map layer (lead_version), `sessions`
 * for the sessions looked up (session_version).
 */
export type VersionName = 'data' | 'figures' | 'leads' | 'sessions'
type Versions = Record<VersionName, number>

const channel = 'grd_versions'
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

  const forget = () => {
    known = undefined
    epoch++
  }

  function notify(payload: string) {
    const [table, value] = payload.split(' ')
    const name = tableOf[table!]
    if (!name) return
    if (known) known[name] = Math.max(known[name], Number(value))
    else epoch++
  }

  const read = (): Promise<Versions> => {
    if (reading?.epoch === epoch) return reading.versions
    const own = { epoch } as { epoch: number; versions: Promise<Versions> }
    own.versions = (async () => {
      try {
        reads++
        const [row] = await db.sql<Versions[]>`
          select (select version from data_version) as data, (select version from figures_version) as figures,
                 (select version from lead_version) as leads, (select version from session_version) as sessions`
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

  return {
    current,

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
