import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTestDatabase, type TestDatabase } from '../helpers/db.js'

/**
 * A query the pool hands a connection while a copy streams on it. The driver refused it ("You
 * cannot execute queries during copy"), which failed whatever request shared a connection with a
 * cluster analysis or the rings: always on the embedded database's one connection, and on
 * PostgreSQL once every pooled connection was busy. Patched to hold the query until the copy
 * ends. The case arises in a plain Node process (the probe), not in the test runner's.
 */
const run = promisify(execFile)
let db: TestDatabase

beforeAll(async () => {
  db = await openTestDatabase('migrated')
})

afterAll(async () => {
  await db?.close()
})

describe('a query asked while a copy streams on its connection', () => {
  it('is answered once the copy ends, and the copy is whole', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'tests/helpers/copy-hold-probe.ts', db.url!], { timeout: 60_000 })
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ rows: 100_000, answer: 3 })
  })
})
