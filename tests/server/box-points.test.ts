import { describe, expect, it } from 'vitest'
import { type BoxReads, boxPointsCache, collectionText, patchRows, type PointRows } from '../../server/plugins/app/box-points.js'

/** Rows of [id, area] pairs, each feature's text naming both. */
const rows = (...pairs: [number, number][]): PointRows => ({
  ids: pairs.map(p => p[0]),
  areas: pairs.map(p => p[1]),
  features: pairs.map(p => `{"id":${p[0]},"area":${p[1]}}`),
})
const ids = (r: PointRows | undefined) => r?.ids

describe('a box\'s rows patched where the map changed', () => {
  it('replaces the rows of the changed areas by theirs now, in id order, and leaves the others', () => {
    const base = rows([1, 10], [2, 20], [3, 10], [5, 20])
    const fresh = rows([3, 10], [4, 10])
    const out = patchRows(base, 10, [10], fresh)!
    expect(out).toEqual(rows([2, 20], [3, 10], [4, 10], [5, 20]))
  })

  it('drops a row gone from a changed area (deleted, moved or filtered out) and takes one moved in', () => {
    const base = rows([1, 10], [2, 20], [3, 30])
    expect(ids(patchRows(base, 10, [10, 30], rows([3, 10])))).toEqual([2, 3])
    expect(patchRows(base, 10, [10, 30], rows([3, 10]))!.areas).toEqual([20, 10])
  })

  it('keeps one row past the limit, so the answer still says it was cut', () => {
    // limit 3: the base holds the first 4 rows; a new row below its last id pushes the last one out.
    const base = rows([2, 20], [4, 10], [6, 20], [8, 20])
    expect(ids(patchRows(base, 3, [10], rows([1, 10], [4, 10])))).toEqual([1, 2, 4, 6])
  })

  it('cannot tell a cut box that lost rows: rows past its last id were never read', () => {
    const base = rows([2, 20], [4, 10], [6, 20], [8, 20])
    expect(patchRows(base, 3, [10], rows())).toBeUndefined()
    // Not cut: every row of the box was read, so one fewer is the answer.
    expect(ids(patchRows(rows([2, 20], [4, 10], [6, 20]), 3, [10], rows()))).toEqual([2, 6])
  })

  it('writes the collection of the first rows up to the limit, saying whether there were more', () => {
    const base = rows([1, 10], [2, 20], [3, 10])
    expect(JSON.parse(collectionText(base, 2))).toEqual({
      type: 'FeatureCollection', features: [{ id: 1, area: 10 }, { id: 2, area: 20 }], numberReturned: 2, truncated: true,
    })
    expect(JSON.parse(collectionText(base, 3))).toMatchObject({ numberReturned: 3, truncated: false })
    expect(JSON.parse(collectionText(rows(), 3))).toEqual({ type: 'FeatureCollection', features: [], numberReturned: 0, truncated: false })
  })
})

describe('the boxes kept', () => {
  /** A box of `n` rows in areas 1 and 2, every area changed at each version, counting how it was read. */
  function box(n: number, limit: number) {
    const all = rows(...Array.from({ length: n }, (_, i) => [i + 1, (i % 2) + 1] as [number, number]))
    const reads = { streamed: 0, areas: 0, whole: 0 }
    let version = 1
    const boxReads: BoxReads = {
      limit,
      version: async () => version,
      changedSince: () => [1],
      stream: (keep, _, maxRows = 0) => {
        reads.streamed++
        const text = collectionText(all, limit)
        // As pointsPieces: the rows only when at most maxRows (the cache's bound on rows it patches).
        keep?.(all.ids.length <= maxRows ? all : undefined, text)
        return (async function* () { yield text })()
      },
      areas: async (_, maxId) => {
        reads.areas++
        const keep = all.ids.flatMap((id, i) => all.areas[i] === 1 && (maxId === undefined || id <= maxId) ? [[id, 1] as [number, number]] : [])
        return rows(...keep)
      },
      whole: async () => {
        reads.whole++
        return all
      },
    }
    return { reads, box: boxReads, next: () => version++ }
  }
  const text = async (a: string | AsyncGenerator<string>) => {
    if (typeof a === 'string') return a
    let t = ''
    for await (const p of a) t += p
    return t
  }

  it('patches a box of a few thousand rows, and reads a bigger one again streamed (kept as text only)', async () => {
    const cache = boxPointsCache()
    const small = box(3000, 10_000)
    expect(JSON.parse(await text(await cache.answer('small', small.box))).numberReturned).toBe(3000)
    small.next()
    expect(JSON.parse(await text(await cache.answer('small', small.box))).numberReturned).toBe(3000)
    expect(small.reads).toEqual({ streamed: 1, areas: 1, whole: 0 })

    const big = box(30_000, 100_000)
    await text(await cache.answer('big', big.box))
    big.next()
    expect(JSON.parse(await text(await cache.answer('big', big.box))).numberReturned).toBe(30_000)
    expect(big.reads).toEqual({ streamed: 2, areas: 0, whole: 0 })
    // Nothing new: kept, not read.
    await text(await cache.answer('big', big.box))
    expect(big.reads.streamed).toBe(2)
  })
  it('keeps a big box read whole for a patch as text only too', async () => {
    const cache = boxPointsCache()
    const big = box(30_000, 100_000)
    // The second asks for a newer version before the first's read is known to be text only: it waits
    // for it, then reads the box whole (not streamed).
    const first = cache.answer('big', big.box)
    big.next()
    const second = cache.answer('big', big.box)
    await text(await first)
    expect(JSON.parse(await text(await second)).numberReturned).toBe(30_000)
    expect(big.reads).toEqual({ streamed: 1, areas: 0, whole: 1 })
    // What that whole read kept is text only as well: the next version is streamed, not patched.
    big.next()
    await text(await cache.answer('big', big.box))
    expect(big.reads).toEqual({ streamed: 2, areas: 0, whole: 1 })
  })
})
