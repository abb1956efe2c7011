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
