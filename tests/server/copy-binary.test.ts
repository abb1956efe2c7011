/**
 * Binary COPY of a query with parameters (server/db/copy-binary.ts), on both backends: the cluster
 * analysis reads its points this way. Parameters become literals, so the tests try values that
 * would end a badly quoted one; and the driver must serve the next query on the connection after a
 * copy that nobody read while it arrived (postgres.js paused the socket for good: patched).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Sql } from '../../server/db/index.js'
import { copiedRecords, copyBinary, readCopiedRecords } from '../../server/db/copy-binary.js'
import { openTestDatabase, type TestDatabase } from '../helpers/db.js'
import { settled } from '../helpers/settled.js'

let db: TestDatabase
/** One connection: what the copy used is what the next query gets. */
let one: Sql
let closeOne: () => Promise<void>

beforeAll(async () => {
  db = await openTestDatabase('migrated')
  if (db.url) {
    const single = await openDatabase({ url: db.url, max: 1 })
    one = single.sql
    closeOne = single.close
  }
  else {
    one = db.sql
    closeOne = async () => {}
  }
})

afterAll(async () => {
  await closeOne?.()
  await db?.close()
})

describe('copyBinary', () => {
  it('copies the rows the query gives with its parameters, whatever the text holds', async () => {
    const tricky = ['it\'s', 'back\\slash', '\\\'); drop table premises; --', 'E\'x\'', '$1', '中文']
    for (const text of tricky) {
      const select = db.sql`select g::int4 as n, ${text}::text = ${text} as same, ${new Date('2026-01-02T03:04:05Z')}::timestamptz = '2026-01-02T03:04:05Z' as at
        from generate_series(1, ${3}) g where g >= ${2} and ${true}`
      const copied = await readCopiedRecords(await copyBinary(db.sql, select), [4, 1, 1])
      expect(copied.rows).toBe(2)
      const rows = Array.from({ length: copied.rows }, (_, r) => {
        const o = copied.first + r * copied.stride
        return [copied.view.getInt32(o + copied.at[0]!), copied.view.getUint8(o + copied.at[1]!), copied.view.getUint8(o + copied.at[2]!)]
      })
      expect(rows).toEqual([[2, 1, 1], [3, 1, 1]])
    }
    // The tables are all there: no value ended its literal.
    expect((await db.sql`select count(*)::int as n from premises`)[0]!.n).toBeGreaterThanOrEqual(0)
  })

  it('copies nothing when nothing matches, and a query without parameters', async () => {
    const none = await readCopiedRecords(await copyBinary(db.sql, db.sql`select 1::int8 where ${false}`), [8])
    expect(none.rows).toBe(0)
    const plain = await readCopiedRecords(await copyBinary(db.sql, db.sql`select 7::int8`), [8])
    expect(plain.rows).toBe(1)
    expect(plain.view.getBigInt64(plain.first + plain.at[0]!)).toBe(7n)
  })

  it('refuses a null or a field of another width rather than misread the rows', async () => {
    await expect(readCopiedRecords(await copyBinary(db.sql, db.sql`select null::int4`), [4])).rejects.toThrow(/null/)
    await expect(readCopiedRecords(await copyBinary(db.sql, db.sql`select 1::int8`), [4])).rejects.toThrow(/8 bytes, not 4/)
    await expect(readCopiedRecords(await copyBinary(db.sql, db.sql`select 1::int4, 2::int4`), [4, 4, 4])).rejects.toThrow(/2 fields, not 3/)
    expect(() => copiedRecords(Buffer.from('not a copy at all, no'), [4])).toThrow(/signature/)
  })

  it('refuses a parameter it cannot write as a literal', async () => {
    await expect(copyBinary(db.sql, db.sql`select ${[1, 2]}::int[]`)).rejects.toThrow(/array/)
  })
})

describe('the driver after a copy', () => {
  it('serves the next query on the connection when the copy arrived before anyone read it', async () => {
    for (let round = 0; round < 3; round++) {
      // About 30 KB: past the stream's 16 KB buffer, so the driver pauses the socket, and small
      // enough that the copy's end comes in the same read.
      const stream = await one`copy (select repeat('x', 100) from generate_series(1, 300)) to stdout`.readable()
      await new Promise(resolve => setTimeout(resolve, 300))
      let bytes = 0
      for await (const chunk of stream) bytes += (chunk as Buffer).byteLength
      expect(bytes).toBe(300 * 101)
      expect(await settled(one`select 1 as n`)).toBe('served')
    }
  })
})
