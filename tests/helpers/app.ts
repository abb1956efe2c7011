import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../server/app.js'
import type { Database } from '../../server/db/index.js'
import { openTestDatabase, type Template } from './db.js'

export interface TestApp {
  app: FastifyInstance
  db: Database
  close: () => Promise<void>
}

/** The real application on a database of the test file's own; requests go through app.inject. */
export async function buildTestApp(opts: { template?: Template; webRoot?: string } = {}): Promise<TestApp> {
  const db = await openTestDatabase(opts.template)
  const app = await buildApp({ db, webRoot: opts.webRoot })
  return {
    app,
    db,
    close: async () => {
      await app.close()
      await db.close()
    },
  }
}
