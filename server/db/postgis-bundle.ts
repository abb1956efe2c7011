import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { gunzip, gzip } from 'node:zlib'
import type { Extension } from '@electric-sql/pglite'

/**
 * The embedded PostGIS without the extensions we never create. pglite-postgis ships PostGIS with
 * raster, topology and the TIGER geocoder in one 20 MB bundle, and PGlite unpacks the whole of it
 * and compiles each of its three WebAssembly libraries every time a database opens: 3.6-4.4 s for an
 * open from a dump, against 2.4 s with PostGIS alone (measured here; the tests open about 150
 * embedded databases a run, and the app one per start). The lean bundle keeps every file of the
 * `postgis` extension (its library, control file, install and upgrade scripts, PROJ's data) and
 * drops those of the others and the manual install scripts under contrib/.
 */
const otherExtension = /(?:^|\/)(?:postgis_raster|postgis_topology|postgis_tiger_geocoder|postgis_sfcgal|address_standardizer)[-_.]|(?:^|\/)share\/postgresql\/contrib\//

/** Whether a file of pglite-postgis's bundle is kept in the lean one. */
export const inLeanBundle = (name: string): boolean => !otherExtension.test(name)

/** Wraps pglite-postgis's extension so that PGlite loads the lean bundle (the full one if it cannot be made). */
export function leanPostgis(postgis: Extension): Extension {
  return {
    name: postgis.name,
    setup: async (pg, emscriptenOpts, clientOnly) => {
      const result = await postgis.setup(pg, emscriptenOpts, clientOnly)
      if (!result.bundlePath || result.bundlePath.protocol !== 'file:') return result
      return { ...result, bundlePath: await leanBundle(result.bundlePath) }
    },
  }
}

/**
 * The lean bundle's file, made once per version of the full one and kept in node_modules/.cache.
 * Processes opening databases at the same time each write their own temporary file and rename it:
 * a reader sees a whole bundle or none. Any failure (a read-only install) falls back to the full one.
 */
async function leanBundle(full: URL): Promise<URL> {
  try {
    const path = fileURLToPath(full)
    const source = await stat(path)
    // The node_modules the package sits in (…/node_modules/@electric-sql/pglite-postgis/dist/postgis.tar.gz).
    const at = path.lastIndexOf('/node_modules/')
    const nodeModules = at === -1 ? dirname(path) : path.slice(0, at + '/node_modules'.length)
    const dir = join(nodeModules, '.cache', 'group-rental-dashboard')
    const target = join(dir, `postgis-lean-${source.size}-${Math.trunc(source.mtimeMs)}.tar.gz`)
    const made = await stat(target).then(() => true, () => false)
    if (!made) {
      const kept = keepEntries(await promisify(gunzip)(await readFile(path)), inLeanBundle)
      await mkdir(dir, { recursive: true })
      const temporary = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}`
      try {
        await writeFile(temporary, await promisify(gzip)(kept, { level: 1 }))
        await rename(temporary, target)
      }
      finally {
        await rm(temporary, { force: true })
      }
    }
    return pathToFileURL(target)
  }
  catch (e) {
    console.warn(`PostGIS: the lean bundle could not be made from ${fileURLToPath(full)}, loading the full one: ${(e as Error).message}`)
    return full
  }
}

const block = 512

/**
 * The entries of a tar archive whose names pass `keep`, copied block for block (with the pax or GNU
 * long-name headers that belong to them), ended by the two empty blocks.
 */
export function keepEntries(tar: Buffer, keep: (name: string) => boolean): Buffer {
  const out: Buffer[] = []
  let pending: Buffer[] = []
  let longName: string | undefined
  let offset = 0
  while (offset + block <= tar.length) {
    const header = tar.subarray(offset, offset + block)
    if (header.every(b => b === 0)) break
    const size = Number.parseInt(field(header, 124, 12) || '0', 8)
    const end = offset + block + Math.ceil(size / block) * block
    if (end > tar.length) throw new Error('the archive ends inside an entry')
    const raw = tar.subarray(offset, end)
    const data = tar.subarray(offset + block, offset + block + size)
    const type = String.fromCharCode(header[156]!)
    offset = end
    if (type === 'g') { out.push(raw); continue }
    if (type === 'L') { longName = data.toString('utf8').replace(/\0.*$/s, ''); pending.push(raw); continue }
    if (type === 'x') {
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))
      if (path) longName = path[1]
      pending.push(raw)
      continue
    }
    if (type === 'K') { pending.push(raw); continue }
    const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? field(header, 345, 155) : ''
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100))
    if (keep(name.replace(/^\.\//, ''))) out.push(...pending, raw)
    pending = []
    longName = undefined
  }
  out.push(Buffer.alloc(2 * block))
  return Buffer.concat(out)
}

function field(header: Buffer, start: number, length: number): string {
  return header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '').trim()
}
