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

/**
 * Runs `fn` once the map has every tile it wants and has stopped drawing: at the first 'idle' after
 * this call at which it is loaded and still. Not `m.once('idle', fn)`, which lost writes on a busy
 * machine: MapLibre runs one-time listeners added while an 'idle' is dispatched in that same
 * dispatch, so one added by a change of address made there (`setTilesWhenLoaded` applies on 'idle')
 * ran before the new tiles were asked for; and after two changes of address in a row the map once
 * went quiet, loaded, with no 'idle' at all (the selected point kept its old status, about one run in
 * five). A listener added here waits for the next dispatch, and whenever the map is loaded and has
 * drawn no frame for half a second it is asked for a repaint, whose frame ends in an 'idle' if nothing
 * is left to do. `fn` never runs outside an 'idle': a frame can take longer than half a second on a
 * busy machine, and labels still being placed between such frames are not yet on the map (measured
 * there: the likely reason the analysis page's cluster label once counted none on CI).
 */
export function whenSettled(m: maplibregl.Map, fn: () => void): void {
  let lastFrame = performance.now()
  const drew = () => { lastFrame = performance.now() }
  const stop = () => {
    m.off('idle', onIdle)
    m.off('render', drew)
    m.off('remove', stop)
    clearInterval(timer)
  }
  const settle = () => {
    stop()
    fn()
  }
  const onIdle = () => {
    if (!m.isMoving() && m.loaded()) settle()
  }
  const timer = setInterval(() => {
    if (!m.isMoving() && m.loaded() && performance.now() - lastFrame > 500) {
      lastFrame = performance.now()
      m.triggerRepaint()
    }
  }, 250)
  m.on('idle', onIdle)
  m.on('render', drew)
  m.once('remove', stop)
  m.triggerRepaint()
}
