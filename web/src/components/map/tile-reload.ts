import type * as maplibregl from 'maplibre-gl'

/** Per map: the sources whose change of address waits for the tiles on their way. */
const waiting = new WeakMap<maplibregl.Map, Set<string>>()

/**
 * Points a vector source at a new tile address (new filters, a new data version). MapLibre fetches
 * again the tiles it holds when the address changes, but a tile still on its way is only read again
 * when it arrives, from the old address: a write made while the map was loading would stay off the
 * map until the next move. So the address changes once no tile of the source is on its way, and it is
 * then the newest (`url` is asked at that moment); several changes meanwhile make one. `then` runs
 * right after the change.
 */
export function setTilesWhenLoaded(m: maplibregl.Map, sourceId: string, url: () => string, then?: () => void): void {
  let pending = waiting.get(m)
  if (!pending) waiting.set(m, pending = new Set())
  if (pending.has(sourceId)) return
  const source = () => m.getSource(sourceId) as maplibregl.VectorTileSource | undefined
  const apply = () => {
    if (source() && !m.isSourceLoaded(sourceId)) return
    m.off('sourcedata', apply)
    m.off('idle', apply)
    pending.delete(sourceId)
    source()?.setTiles([url()])
    then?.()
  }
  pending.add(sourceId)
  apply()
  if (pending.has(sourceId)) {
    m.on('sourcedata', apply)
    m.on('idle', apply)
  }
}
