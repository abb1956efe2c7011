import { zxyToTileId } from 'pmtiles'

/** A tile for a PMTiles archive: its bytes as stored (already compressed as the header says). */
export interface ArchiveTile {
  z: number
  x: number
  y: number
  data: Uint8Array
}

export interface ArchiveOptions {
  /** 1: Mapbox vector tiles (gzip-compressed), 2: PNG (uncompressed). */
  tileType: 1 | 2
  bounds: [number, number, number, number]
  metadata: Record<string, unknown>
}

function varints(values: number[]): Buffer {
  const out: number[] = []
  for (let v of values) {
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80)
      v = Math.floor(v / 0x80)
    }
    out.push(v)
  }
  return Buffer.from(out)
}

/**
 * A PMTiles version 3 archive (the layout of the specification: a 127-byte header, one root
 * directory, the metadata JSON, the tile data), small enough for a test fixture: no leaf
 * directories, nothing compressed inside (the internal compression is "none").
 */
export function pmtilesArchive(tiles: ArchiveTile[], opts: ArchiveOptions): Buffer {
  const entries = tiles.map(t => ({ id: zxyToTileId(t.z, t.x, t.y), data: t.data })).sort((a, b) => a.id - b.id)
  let offset = 0
  const placed = entries.map((e) => {
    const at = offset
    offset += e.data.byteLength
    return { ...e, offset: at }
  })
  // The directory: the count, then per column tile-id deltas, run lengths, lengths and offsets
  // (0 meaning "right after the previous tile", otherwise offset + 1).
  const dir = Buffer.concat([
    varints([placed.length]),
    varints(placed.map((e, i) => e.id - (i > 0 ? placed[i - 1]!.id : 0))),
    varints(placed.map(() => 1)),
    varints(placed.map(e => e.data.byteLength)),
    varints(placed.map((e, i) => (i > 0 && e.offset === placed[i - 1]!.offset + placed[i - 1]!.data.byteLength ? 0 : e.offset + 1))),
  ])
  const metadata = Buffer.from(JSON.stringify(opts.metadata))
  const data = Buffer.concat(placed.map(e => e.data))
  const zooms = tiles.map(t => t.z)
  const header = Buffer.alloc(127)
  header.write('PMTiles', 0, 'latin1')
  header[7] = 3
  const u64 = (at: number, v: number) => header.writeBigUInt64LE(BigInt(v), at)
  u64(8, 127)
  u64(16, dir.byteLength)
  u64(24, 127 + dir.byteLength)
  u64(32, metadata.byteLength)
  u64(40, 0)
  u64(48, 0)
  u64(56, 127 + dir.byteLength + metadata.byteLength)
  u64(64, data.byteLength)
  u64(72, placed.length)
  u64(80, placed.length)
  u64(88, placed.length)
  header[96] = 1
  header[97] = 1
  header[98] = opts.tileType === 1 ? 2 : 1
  header[99] = opts.tileType
  header[100] = Math.min(...zooms)
  header[101] = Math.max(...zooms)
  const [w, s, e, n] = opts.bounds.map(v => Math.round(v * 1e7)) as [number, number, number, number]
  header.writeInt32LE(w, 102)
  header.writeInt32LE(s, 106)
  header.writeInt32LE(e, 110)
  header.writeInt32LE(n, 114)
  header[118] = Math.max(...zooms)
  header.writeInt32LE(Math.round((w + e) / 2), 119)
  header.writeInt32LE(Math.round((s + n) / 2), 123)
  return Buffer.concat([header, dir, metadata, data])
}
