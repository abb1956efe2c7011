import type { Sql } from '../../server/db/index.js'

/** Runs `fn` and returns the statements `sql`'s connections sent meanwhile (the driver's own debug hook). */
export async function statementsDuring(sql: Sql, fn: () => Promise<unknown>): Promise<string[]> {
  return (await callsDuring(sql, fn)).map(c => c.query)
}

/** The same with each statement's parameters. */
export async function callsDuring(sql: Sql, fn: () => Promise<unknown>): Promise<{ query: string; parameters: unknown[] }[]> {
  const options = (sql as Sql & { options: { debug?: unknown } }).options
  const sent: { query: string; parameters: unknown[] }[] = []
  options.debug = (_connection: number, query: string, parameters: unknown[]) => sent.push({ query, parameters })
  try {
    await fn()
  }
  finally {
    options.debug = false
  }
  return sent
}
