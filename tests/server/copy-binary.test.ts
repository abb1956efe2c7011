/**
 * Binary COPY of a query with parameters (server/db/copy-binary.ts), on both backends: the cluster
 * analysis reads its points this way. Parameters become literals, so the tests try values that
 * would end a badly quoted one; and the driver must serve the next query on the connection after a
 * copy that nobody read while it arrived (postgres.js paused the socket for good: patched).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Sql, type Tx } from '../../server/db/index.js'
import type { PendingQuery, Row } from 'postgres'
import { copiedRecords, copyBinary, readCopiedInHalves, readCopiedRecords } from '../../server/db/copy-binary.js'
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
      const rows: number[][] = []
      copied.forEach((view, o) => rows.push([view.getInt32(o + copied.at[0]!), view.getUint8(o + copied.at[1]!), view.getUint8(o + copied.at[2]!)]))
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
    const values: bigint[] = []
    plain.forEach((view, o) => values.push(view.getBigInt64(o + plain.at[0]!)))
    expect(values).toEqual([7n])
  })

  it('refuses a null or a field of another width rather than misread the rows', async () => {
    await expect(readCopiedRecords(await copyBinary(db.sql, db.sql`select null::int4`), [4])).rejects.toThrow(/null/)
    await expect(readCopiedRecords(await copyBinary(db.sql, db.sql`select 1::int8`), [4])).rejects.toThrow(/8 bytes, not 4/)
    await expect(readCopiedRecords(await copyBinary(db.sql, db.sql`select 1::int4, 2::int4`), [4, 4, 4])).rejects.toThrow(/2 fields, not 3/)
    expect(() => copiedRecords(Buffer.from('not a copy at all, no'), [4])).toThrow(/signature/)
    // A null in a later row, with a wider field beside it making up the length: found on reading.
    const row = (fields: [number, number][]) => {
      const b = Buffer.alloc(2 + fields.reduce((n, [length]) => n + 4 + Math.max(0, length), 0))
      b.writeInt16BE(fields.length, 0)
      let o = 2
      for (const [length, value] of fields) {
        b.writeInt32BE(length, o)
        if (length === 4) b.writeInt32BE(value, o + 4)
        if (length === 8) b.writeBigInt64BE(BigInt(value), o + 4)
        o += 4 + Math.max(0, length)
      }
      return b
    }
    const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)])
    const trailer = Buffer.from([0xFF, 0xFF])
    const odd = copiedRecords(Buffer.concat([header, row([[4, 1], [4, 2]]), row([[-1, 0], [8, 3]]), trailer]), [4, 4])
    expect(odd.rows).toBe(2)
    const seen: number[] = []
    expect(() => odd.forEach((view, o) => seen.push(view.getInt32(o + odd.at[0]!)))).toThrow(/row 1, field 0 is null/)
    expect(seen).toEqual([1])
  })

  it('reads rows split between the chunks they arrive in, at every byte of a row', async () => {
    const select = db.sql`select g::int4, g::int8 * 1000000007, (g % 7)::int2 from generate_series(1, ${50}) g`
    const whole = await readCopiedRecords(await copyBinary(db.sql, select), [4, 8, 2])
    const rowsOf = (copied: typeof whole) => {
      const out: string[] = []
      copied.forEach((view, o, r) => out.push(`${r}:${view.getInt32(o + copied.at[0]!)}:${view.getBigInt64(o + copied.at[1]!)}:${view.getInt16(o + copied.at[2]!)}`))
      return out
    }
    const want = rowsOf(whole)
    expect(want).toHaveLength(50)
    expect(want[49]).toBe(`49:50:${50n * 1000000007n}:1`)
    const chunks: Buffer[] = []
    for await (const c of await copyBinary(db.sql, select)) chunks.push(c)
    const bytes = Buffer.concat(chunks)
    // Chunks of every size from 1 byte to past a row (28 bytes), so that every split lands somewhere.
    for (let size = 1; size <= 31; size++) {
      const parts = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size))
      expect(rowsOf(copiedRecords(parts, [4, 8, 2])), `chunks of ${size} bytes`).toEqual(want)
    }
  })

  it('refuses a parameter it cannot write as a literal', async () => {
    await expect(copyBinary(db.sql, db.sql`select ${[1, 2]}::int[]`)).rejects.toThrow(/array/)
  })
})

describe('a copy in halves (readCopiedInHalves)', () => {
  it('gives the rows of one copy, each once, while every row is being moved to new pages', async () => {
    const [{ role }] = await db.sql<{ role: string }[]>`select current_user as role` as unknown as [{ role: string }]
    await db.owner`create table halves_probe (id int8 primary key, n int4 not null)`
    await db.owner`insert into halves_probe select g, 0 from generate_series(1, 3000) g`
    await db.owner`grant select, update on halves_probe to ${db.owner(role)}`
    const select = (d: Sql | Tx, part: PendingQuery<Row[]>) => d`select h.id, h.n from halves_probe h where ${part}`
    const ids = (copied: Awaited<ReturnType<typeof readCopiedInHalves>>) => {
      const out: number[] = []
      copied.forEach((view, o) => out.push(Number(view.getBigInt64(o + copied.at[0]!))))
      return out.sort((a, b) => a - b)
    }
    expect(ids(await readCopiedInHalves(db.sql, 'halves_probe', 'h', select, [8, 4]))).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1))
    // Each update writes every row anew at the end of the table, from the first half's pages into
    // the second's: halves with a snapshot each would read a row in both or in neither.
    let updating = true
    const updater = (async () => {
      while (updating) await db.sql`update halves_probe set n = n + 1`
    })()
    try {
      for (let i = 0; i < 15; i++) {
        const got = ids(await readCopiedInHalves(db.sql, 'halves_probe', 'h', select, [8, 4]))
        expect(got.length, `copy ${i}`).toBe(3000)
        expect(new Set(got).size, `copy ${i}`).toBe(3000)
      }
    }
    finally {
      updating = false
      await updater
      await db.owner`drop table halves_probe`
    }
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
