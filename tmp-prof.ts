import { openDatabase } from './server/db/index.js'
import { migrate } from './server/db/migrate.js'
import { piiKeysFrom } from './server/domain/pii.js'
import { seedDemo } from './server/seed/demo.js'
const admin = await openDatabase({ url: 'postgres://postgres@127.0.0.1:55432/postgres', max: 1 })
await admin.sql.unsafe('drop database if exists grd_s3scale_prof with (force)')
await admin.sql.unsafe('create database grd_s3scale_prof')
await admin.close()
const db = await openDatabase({ url: 'postgres://postgres@127.0.0.1:55432/grd_s3scale_prof', max: 2 })
await migrate(db.sql)
const t0 = Date.now()
await seedDemo(db.sql, { premises: 40000, seed: 20191227, keys: piiKeysFrom(Buffer.alloc(32, 1)), batch: 10000, log: m => console.log(m) })
console.log('total', Date.now() - t0)
await db.close()
