import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../server/app.js'
import type { Basemap } from '../../server/lib/config.js'
import type { ImportOptions } from '../../server/plugins/app/imports.js'
import type { NoticesOptions } from '../../server/plugins/app/notices.js'
import type { SupervisionOptions } from '../../server/plugins/app/supervision.js'
import { openTestDatabase, type Template, type TestDatabase } from './db.js'
import { testKeys } from './keys.js'

export interface TestApp {
  app: FastifyInstance
  /** The app's database: `db.sql` is the app's own connection (the restricted role on PostgreSQL). */
  db: TestDatabase
  close: () => Promise<void>
}

/** The real application on a database of the test file's own; requests go through app.inject. */
export async function buildTestApp(opts: { template?: Template; webRoot?: string; trustProxy?: boolean; imports?: ImportOptions; publicUrl?: string; basemap?: Basemap; supervision?: SupervisionOptions; notices?: NoticesOptions } = {}): Promise<TestApp> {
  const db = await openTestDatabase(opts.template)
  const app = await buildApp({ db, keys: testKeys, webRoot: opts.webRoot, trustProxy: opts.trustProxy, imports: opts.imports, publicUrl: opts.publicUrl, basemap: opts.basemap, supervision: opts.supervision, notices: opts.notices })
  return {
    app,
    db,
    close: async () => {
      await app.close()
      await db.close()
    },
  }
}

export const demoPassword = 'demo1234'

/** Signs in through the API and returns the Cookie header value of the new session. */
export async function signIn(app: FastifyInstance, username: string, password = demoPassword): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } })
  if (res.statusCode !== 200) throw new Error(`sign-in as ${username} failed: ${res.statusCode} ${res.body}`)
  const cookie = res.cookies.find(c => c.name === 'grd_session')
  if (!cookie) throw new Error('sign-in set no session cookie')
  return `grd_session=${cookie.value}`
}
