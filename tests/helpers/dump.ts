import type { Database } from '../../server/db/index.js'

const block = 512

/** An entry's path in a tar header: the ustar prefix, if any, then the name. */
function entryPath(header: Buffer): string {
  const field = (from: number, length: number) => {
    const raw = header.subarray(from, from + length)
    const end = raw.indexOf(0)
    return raw.subarray(0, end === -1 ? length : end).toString('utf8')
  }
  const name = field(0, 100)
  const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? field(345, 155) : ''
  return prefix ? `${prefix}/${name}` : name
}

/** The tar without the entries `drop` names (a tar of plain files and directories, as PGlite writes). */
export function tarWithout(tar: Buffer, drop: (path: string) => boolean): Buffer {
  const kept: Buffer[] = []
  let at = 0
  while (at + block <= tar.length) {
    const header = tar.subarray(at, at + block)
    // Two zero blocks end the archive; the end is written again below.
    if (header.every(b => b === 0)) break
    const size = Number.parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8)
    const length = block + Math.ceil(size / block) * block
    if (at + length > tar.length) throw new Error(`the dump ends inside ${entryPath(header)}`)
    if (!drop(entryPath(header))) kept.push(tar.subarray(at, at + length))
    at += length
  }
  return Buffer.concat([...kept, Buffer.alloc(2 * block)])
}

/**
 * The embedded database's data directory as a tar, for each test file to start from, without the
 * write-ahead log's spare segments: after a checkpoint, the segments past the one being written are
 * old ones renamed for reuse (PostgreSQL keeps min_wal_size, 80 MB, of them) and are made again when
 * needed. They were 32 MB of the seeded dump's 95, and every test file loaded them (0.8 s a file).
 */
export async function dumpWithoutSpareWal(db: Database): Promise<Buffer> {
  await db.sql`checkpoint`
  const [row] = await db.sql<{ current: string }[]>`select pg_walfile_name(pg_current_wal_insert_lsn()) as current`
  const tar = Buffer.from(await (await db.dumpDataDir!()).arrayBuffer())
  return tarWithout(tar, (path) => {
    const wal = /(?:^|\/)pg_wal\/([0-9A-F]{24})$/.exec(path)
    return wal !== null && wal[1]! > row!.current
  })
}
