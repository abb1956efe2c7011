import { execFile, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Debian's PostgreSQL 15 (with PostGIS from postgresql-15-postgis-3); PG_BIN_DIR points elsewhere. */
export const pgBinDir = process.env.PG_BIN_DIR || '/usr/lib/postgresql/15/bin'

/**
 * Why a private cluster cannot be started here, or undefined when it can. PostgreSQL refuses to run
 * as root, so root runs it as the `postgres` OS user (runuser); anyone else runs it as themselves.
 */
export function privatePostgresMissing(): string | undefined {
  if (!existsSync(join(pgBinDir, 'initdb')) || !existsSync(join(pgBinDir, 'pg_ctl'))) {
    return `no PostgreSQL server binaries in ${pgBinDir}: install postgresql-15-postgis-3 (Debian; .ci/run does) or set PG_BIN_DIR`
  }
  if (process.getuid?.() === 0 && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) {
    return 'running as root without runuser: PostgreSQL must run as the postgres user'
  }
  return undefined
}

/** A PostgreSQL cluster of a test's own, which the test may stop and start at will. */
export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string
  port: number
  /** Stops the server: `immediate` is a crash (no checkpoint), `fast` a clean shutdown. */
  stop: (mode?: 'immediate' | 'fast') => Promise<void>
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  start: () => Promise<void>
  /** Stops it and removes its files. */
  destroy: () => Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/**
 * initdb + pg_ctl in a temporary directory on a free port, loopback only, trust authentication,
 * fsync off: a throw-away server that never touches the shared development cluster.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const missing = privatePostgresMissing()
  if (missing) throw new Error(`cannot start a private PostgreSQL: ${missing}`)
  const asRoot = process.getuid?.() === 0
  const pg = (bin: string, args: string[]) => asRoot
    ? run('runuser', ['-u', 'postgres', '--', join(pgBinDir, bin), ...args])
    : run(join(pgBinDir, bin), args)
  const dir = mkdtempSync(join(tmpdir(), 'grd-pg-'))
  if (asRoot) chownSync(dir, Number((await run('id', ['-u', 'postgres'])).stdout.trim()), Number((await run('id', ['-g', 'postgres'])).stdout.trim()))
  const data = join(dir, 'data')
  const port = await freePort()
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'])
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', options, 'start'])
  }
  const stop = async (mode: 'immediate' | 'fast' = 'immediate') => {
    await pg('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop'])
  }
  // A test process that dies before its clean-up must not leave a server running.
  const onExit = () => {
    const args = [join(pgBinDir, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']
    spawnSync(asRoot ? 'runuser' : args[0]!, asRoot ? ['-u', 'postgres', '--', ...args] : args.slice(1), { stdio: 'ignore' })
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', onExit)
  await start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    destroy: async () => {
      process.off('exit', onExit)
      await stop('immediate').catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
