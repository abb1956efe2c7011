import type { Sql } from '../../server/db/index.js'

/** Runs `fn` and returns the statements `sql`'s connections sent meanwhile (the driver's own debug hook). */
export async function statementsDuring(sql: Sql, fn: () => Promise<unknown>): Promise<string[]> {
  const options = (sql as Sql & { options: { debug?: unknown } }).options
  const sent: string[] = []
  options.debug = (_connection: number, query: string) => sent.push(query)
  try {
    await fn()
  }
  finally {
    options.debug = false
  }
  return sent
}
