import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inject } from 'vitest'
import { openDatabase } from '../../server/db/index.js'
import { adminUrl, databaseUrl } from './pg-url.js'

const child = fileURLToPath(new URL('./server-child.ts', import.meta.url))
const root = fileURLToPath(new URL('../..', import.meta.url))

/** A running server process and how to talk to it. */
export interface ServerProcess {
  base: string
  /** What the process has written to stderr so far (its fault-injection points say where they are). */
  stderr: () => string
  /** Kills it at once (SIGKILL): no shutdown, no flush, whatever it was doing. */
  kill: () => Promise<void>
}

/**
 * A database of the test's own that outlives the server processes started on it: a directory for
 * the embedded database (filled from the seeded template on the first start), or a copy of the
 * seeded template on PostgreSQL. `start` launches the real application on it as a child process.
 */
export async function serverDatabase(env: Record<string, string> = {}) {
  const scratch = mkdtempSync(join(tmpdir(), 'grd-crash-'))
  const embedded = inject('backend') === 'embedded'
  let url: string | undefined
  if (!embedded) {
    const name = `grd_crash_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    const admin = await openDatabase({ url: adminUrl(process.env.DATABASE_URL!), max: 1 })
    await admin.sql.unsafe(`create database "${name}" template "${inject('seededTemplate')}"`)
    await admin.close()
    url = databaseUrl(process.env.DATABASE_URL!, name)
  }
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    ...env,
    ...(url ? { DATABASE_URL: url } : { EMBEDDED_DB_DIR: join(scratch, 'db'), LOAD_DUMP: inject('seededTemplate') }),
    UPLOAD_ROOT: join(scratch, 'uploads'),
  }
  if (!url) delete childEnv.DATABASE_URL
  const running = new Set<ChildProcess>()

  async function start(): Promise<ServerProcess> {
    const proc = spawn(process.execPath, ['--import', 'tsx', child], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    running.add(proc)
    let err = ''
    proc.stderr!.on('data', (d: Buffer) => { err += d.toString() })
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const line = out.split('\n').find(l => l.startsWith('{'))
        if (line) resolve((JSON.parse(line) as { port: number }).port)
      })
      proc.on('exit', code => reject(new Error(`the server exited (${code}) before listening: ${err}`)))
    })
    const exited = new Promise<void>(resolve => proc.on('exit', () => resolve()))
    return {
      base: `http://127.0.0.1:${port}`,
      stderr: () => err,
      kill: async () => {
        proc.kill('SIGKILL')
        await exited
        running.delete(proc)
      },
    }
  }

  return {
    start,
    /** The database, opened by the test itself (while no server runs on an embedded one). */
    open: () => (url ? openDatabase({ url, max: 2 }) : openDatabase({
      dataDir: join(scratch, 'db'),
      loadDataDir: existsSync(join(scratch, 'db', 'PG_VERSION')) ? undefined : new Blob([readFileSync(inject('seededTemplate'))]),
    })),
    uploads: join(scratch, 'uploads'),
    async drop() {
      for (const p of running) p.kill('SIGKILL')
      if (url) {
        const admin = await openDatabase({ url: adminUrl(process.env.DATABASE_URL!), max: 1 })
        await admin.sql.unsafe(`drop database if exists "${url.split('/').pop()}" with (force)`)
        await admin.close()
      }
      rmSync(scratch, { recursive: true, force: true })
    },
  }
}

/** Signs in over HTTP and returns the Cookie header value. */
export async function signInOver(base: string, username: string, password = 'demo1234'): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })
  if (res.status !== 200) throw new Error(`sign-in as ${username}: ${res.status} ${await res.text()}`)
  const cookie = res.headers.getSetCookie().find(c => c.startsWith('grd_session='))
  if (!cookie) throw new Error('no session cookie')
  return cookie.split(';')[0]!
}
