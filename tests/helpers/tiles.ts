import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'

/** The tile that holds a point at a zoom (slippy-map numbering). */
export function tileOf(lon: number, lat: number, z: number): [number, number, number] {
  const n = 2 ** z
  const x = Math.floor(((lon + 180) / 360) * n)
  const r = (lat * Math.PI) / 180
  const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)
  return [z, x, y]
}

/** The tile's bounds in degrees: [west, south, east, north]. */
export function tileBbox(z: number, x: number, y: number): [number, number, number, number] {
  const n = 2 ** z
  const lon = (i: number) => (i / n) * 360 - 180
  const lat = (j: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * j) / n))) * 180) / Math.PI
  return [lon(x), lat(y + 1), lon(x + 1), lat(y)]
}

export interface DecodedFeature {
  id: number | undefined
  properties: Record<string, unknown>
  /** Tile coordinates (0..4096) of the point. */
  x: number
  y: number
  lon: number
  lat: number
}

/** Decodes a vector tile into its layers' point features. */
export function decodeTile(data: Uint8Array, z: number, x: number, y: number): Record<string, DecodedFeature[]> {
  const vt = new VectorTile(new PbfReader(data))
  const out: Record<string, DecodedFeature[]> = {}
  for (const [name, layer] of Object.entries(vt.layers)) {
    out[name] = []
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i)
      const p = f.loadGeometry()[0]![0]!
      const g = f.toGeoJSON(x, y, z).geometry as GeoJSON.Point
      out[name]!.push({ id: f.id, properties: f.properties, x: p.x, y: p.y, lon: g.coordinates[0]!, lat: g.coordinates[1]! })
    }
  }
  return out
}
