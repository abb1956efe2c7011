/**
 * The live stream at scale (`npm run bench -- --sse N`): N pages of one user hold the notices'
 * event stream open on a listening server; one notice is written and sent, and the time until each
 * page has it is measured (as a page sees it: over HTTP on the loopback).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Database } from '../server/db/index.js'
import { piiKeysFrom } from '../server/domain/pii.js'

interface Row { measure: string; value: string; note: string }

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!

export async function benchSse(database: Database, connections: number): Promise<Row[]> {
  const { buildApp } = await import('../server/app.js')
  const { hashPassword } = await import('../server/domain/passwords.js')
  const [u] = await database.sql<{ id: number }[]>`
    insert into app_user (username, display_name, password_hash, role) values ('bench.sse', '基准通知', ${await hashPassword('bench-password')}, 'commander')
    on conflict (username) do update set username = excluded.username returning id`
  const app = await buildApp({ db: database, keys: piiKeysFrom(Buffer.alloc(32, 1)), supervision: { everyMs: 0 }, notices: { remindEveryMs: 0 } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'bench.sse', password: 'bench-password' } })
  const cookie = `grd_session=${login.cookies.find(c => c.name === 'grd_session')!.value}`
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })
  const received: number[] = []
  const requests: http.ClientRequest[] = []
  try {
    const t0 = performance.now()
    await Promise.all(Array.from({ length: connections }, () => new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/api/notices/stream', headers: { cookie }, agent }, (res) => {
        let buffer = ''
        let hello = false
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          buffer += chunk
          if (!hello && buffer.includes('event: hello')) {
            hello = true
            resolve()
          }
          if (buffer.includes('event: notice')) {
            received.push(performance.now())
            buffer = ''
          }
        })
      })
      req.on('error', reject)
      requests.push(req)
    })))
    const openMs = performance.now() - t0
    const sent = performance.now()
    const rows = await app.notices.add(database.sql, [{ userId: u!.id, kind: 'submission-due', payload: { periodTo: '2020-06-14' }, townId: null, policeStationId: null, dedupeKey: `bench-sse-${Date.now()}` }])
    app.notices.deliver(rows)
    const until = Date.now() + 30_000
    while (received.length < connections && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 5))
    const latency = received.map(r => r - sent)
    return [
      { measure: `live stream: ${connections} connections opened`, value: `${(openMs / 1000).toFixed(2)} s`, note: 'each answered its opening event (the unread count)' },
      {
        measure: 'live stream: one notice to every connection p50 / p95 / max',
        value: latency.length ? `${percentile(latency, 50).toFixed(1)} / ${percentile(latency, 95).toFixed(1)} / ${Math.max(...latency).toFixed(1)} ms` : 'none arrived',
        note: `${received.length} of ${connections} received it (write of the notice included)`,
      },
    ]
  }
  finally {
    for (const r of requests) r.destroy()
    agent.destroy()
    await app.close()
  }
}
