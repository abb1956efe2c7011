import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { describe, expect, it } from 'vitest'
import { encodePointLayer } from '../../server/domain/mvt.js'

interface Row { id: number; x: number; y: number; n?: number | null; label?: string | null; flag?: boolean; share?: number }

const encode = (rows: Row[], name = 'points') => encodePointLayer<Row>({
  name, extent: 4096, rows, id: r => r.id, x: r => r.x, y: r => r.y,
  properties: [['n', 'n'], ['label', 'label'], ['flag', 'flag'], ['share', 'share']],
})

/** The tile read back by the decoder MapLibre's own is built on. */
function decode(data: Uint8Array) {
  const tile = new VectorTile(new PbfReader(data))
  return Object.fromEntries(Object.entries(tile.layers).map(([name, layer]) => [name, {
    extent: layer.extent,
    version: layer.version,
    features: Array.from({ length: layer.length }, (_, i) => {
      const f = layer.feature(i)
      return { id: f.id, type: f.type, geometry: f.loadGeometry().map(ring => ring.map(p => [p.x, p.y])), properties: f.properties }
    }),
  }]))
}

describe('encodePointLayer', () => {
  it('writes points with their ids, coordinates in the buffer and properties of every type', () => {
    const rows: Row[] = [
      { id: 1, x: 0, y: 0, n: 0, label: 'none', flag: false, share: 0.25 },
      { id: 2_000_000_123, x: -64, y: 4160, n: -3, label: '整改', flag: true },
      { id: 3, x: 4095, y: 17, n: 2 ** 40, label: null, share: -1.5 },
      { id: 4, x: 200, y: 300 },
    ]
    expect(decode(encode(rows))).toEqual({
      points: {
        extent: 4096,
        version: 2,
        features: [
          { id: 1, type: 1, geometry: [[[0, 0]]], properties: { n: 0, label: 'none', flag: false, share: 0.25 } },
          { id: 2_000_000_123, type: 1, geometry: [[[-64, 4160]]], properties: { n: -3, label: '整改', flag: true } },
          { id: 3, type: 1, geometry: [[[4095, 17]]], properties: { n: 2 ** 40, share: -1.5 } },
          { id: 4, type: 1, geometry: [[[200, 300]]], properties: {} },
        ],
      },
    })
  })

  it('keeps a value once whatever the number of features, and tells 1, "1" and true apart', () => {
    const rows = Array.from({ length: 5000 }, (_, i): Row => ({ id: i + 1, x: i % 4096, y: i % 97, n: i % 3, label: String(i % 2), flag: i % 2 === 1 }))
    const data = encode(rows)
    const layer = new VectorTile(new PbfReader(data)).layers.points!
    expect(layer.length).toBe(5000)
    // 0, 1, 2; '0', '1'; false, true.
    expect((layer as unknown as { _values: unknown[] })._values).toEqual([0, '0', false, 1, '1', true, 2])
    for (const i of [0, 1, 2, 4095, 4096, 4999]) {
      const f = layer.feature(i)
      expect(f.id).toBe(i + 1)
      expect(f.properties).toEqual({ n: i % 3, label: String(i % 2), flag: i % 2 === 1 })
      expect(f.loadGeometry()).toEqual([[expect.objectContaining({ x: i % 4096, y: i % 97 })]])
    }
    // A layer of this size needs a length of several bytes: the tile is whole, not cut at 127 or 16,383.
    expect(data.length).toBeGreaterThan(16_384)
  })

  it('gives no bytes for no rows, as ST_AsMVT does', () => {
    expect(encode([]).length).toBe(0)
  })
})
