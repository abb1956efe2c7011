/** Slippy-map (XYZ) tile arithmetic, web-mercator tiles numbered from the north-west. */

const tileX = (lon: number, z: number) => Math.floor(((lon + 180) / 360) * 2 ** z)
function tileY(lat: number, z: number): number {
  const r = (lat * Math.PI) / 180
  return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z)
}

/** The tiles at zoom z that cover a box [west, south, east, north], as inclusive column and row ranges. */
export function tileRange([w, s, e, n]: [number, number, number, number], z: number): { x0: number; y0: number; x1: number; y1: number } {
  return { x0: tileX(w, z), y0: tileY(n, z), x1: tileX(e, z), y1: tileY(s, z) }
}

/** The box [west, south, east, north] of the tile z/x/y. */
export function tileBox(z: number, x: number, y: number): [number, number, number, number] {
  const lon = (tx: number) => (tx / 2 ** z) * 360 - 180
  const lat = (ty: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * ty) / 2 ** z))) * 180) / Math.PI
  return [lon(x), lat(y + 1), lon(x + 1), lat(y)]
}
