/**
 * Run as its own process (copy-hold.pg.test.ts): on a pool of one connection, a query asked while a
 * binary copy streams on it, then the copy read. Prints what each gave, as JSON. In the test runner's
 * process the copy had always arrived whole before the next query was handed over, so the case
 * never arose there; in a plain Node process, as the server runs, it does.
 */
import { openDatabase } from '../../server/db/index.js'
import { copyBinary, readCopiedRecords } from '../../server/db/copy-binary.js'

const db = await openDatabase({ url: process.argv[2]!, max: 1 })
const one = db.sql
const stream = await copyBinary(one, one`select g::int4 from generate_series(1, ${100_000}) g`)
const asked = one<{ n: number }[]>`select 3 as n`.then(r => r[0]!.n, (e: Error) => e.message)
const copied = await readCopiedRecords(stream, [4])
console.log(JSON.stringify({ rows: copied.rows, answer: await asked }))
await db.close()
