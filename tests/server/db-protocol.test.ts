import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../server/db/index.js'
import { backendMessages, withoutReadyForQuery } from '../../server/db/pglite-protocol.js'
import { openTestDatabase } from '../helpers/db.js'

/** Backend messages: a type byte, a 4-byte length (itself included) and the body. */
const message = (type: string, body: number[] = []) => {
  const m = Buffer.alloc(5 + body.length)
  m.write(type, 0, 'latin1')
  m.writeInt32BE(4 + body.length, 1)
  Buffer.from(body).copy(m, 5)
  return m
}
const types = (buf: Buffer) => {
  const out: string[] = []
  for (let i = 0; i < buf.length; i += 1 + buf.readInt32BE(i + 1)) out.push(String.fromCharCode(buf[i]!))
  return out.join('')
}

describe('dropping the early ReadyForQuery of the embedded database', () => {
  const stream = Buffer.concat([message('E', [0x53, 0x45, 0x52, 0x52, 0x00, 0x00]), message('Z', [0x49]), message('1'), message('D', [0, 1, 0, 0, 0, 1, 0x37])])

  it('keeps every other message, whole, in order', () => {
    const out: Buffer[] = []
    const pass = withoutReadyForQuery(c => out.push(Buffer.from(c)))
    pass(stream)
    expect(types(Buffer.concat(out))).toBe('E1D')
    expect(Buffer.concat(out)).toEqual(Buffer.concat([stream.subarray(0, 11), stream.subarray(17)]))
  })

  it('gives the same bytes however the messages are split into chunks', () => {
    for (const size of [1, 2, 3, 5, 7]) {
      const out: Buffer[] = []
      const pass = withoutReadyForQuery(c => out.push(Buffer.from(c)))
      for (let i = 0; i < stream.length; i += size) pass(stream.subarray(i, i + size))
      expect(types(Buffer.concat(out)), `chunks of ${size}`).toBe('E1D')
    }
  })
})

describe('the notifications of the embedded database\'s session', () => {
  const notification = message('A', [0, 0, 0, 7, ...Buffer.from('grd_versions\0data_version 42\0')])
  const stream = Buffer.concat([message('C', [0x43, 0x4F, 0x4D, 0x4D, 0x49, 0x54, 0]), notification, message('Z', [0x49])])

  it('are each seen once, whole, however split into chunks, and every byte passes on as it came', () => {
    for (const size of [1, 2, 3, 5, 7, stream.length]) {
      const out: Buffer[] = []
      const seen: [string, string][] = []
      const pass = backendMessages(c => out.push(Buffer.from(c)), { dropReady: false, onNotification: (channel, payload) => seen.push([channel, payload]) })
      for (let i = 0; i < stream.length; i += size) pass(stream.subarray(i, i + size))
      expect(seen, `chunks of ${size}`).toEqual([['grd_versions', 'data_version 42']])
      expect(Buffer.concat(out).equals(stream), `chunks of ${size}`).toBe(true)
    }
  })
})

describe('a query refused by the database while others wait on the same connection', () => {
  let db: Database
  beforeAll(async () => {
    db = await openTestDatabase('migrated')
  })
  afterAll(() => db.close())

  it('leaves every other query its own answer', async () => {
    const sql = db.sql
    const results = await Promise.allSettled([
      sql`select 1 as a offset ${'99999999999999999999'}`,
      sql`select 2 as b`,
      sql`select ${'a\u0000'}::text as c`,
      sql`select 4 as d`,
    ])
    expect(results.map(r => r.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled'])
    expect([...(results[1] as PromiseFulfilledResult<unknown[]>).value]).toEqual([{ b: 2 }])
    expect([...(results[3] as PromiseFulfilledResult<unknown[]>).value]).toEqual([{ d: 4 }])
    expect([...await sql`select 5 as e`]).toEqual([{ e: 5 }])
  })

  it('rolls back a transaction whose statement was refused, and the connection goes on', async () => {
    // An existing table, written as the app's restricted role would (it may not create tables).
    const sql = db.sql
    await expect(sql.begin(async (tx) => {
      await tx`insert into app_setting (key, value) values ('protocol_probe', '1')`
      await tx`select ${'99999999999999999999'}::int`
    })).rejects.toThrow(/out of range/)
    expect([...await sql`select count(*)::int as n from app_setting where key = 'protocol_probe'`]).toEqual([{ n: 0 }])
  })
})
