import type * as maplibregl from 'maplibre-gl'

/**
 * Draws, after the frame the map has already asked for, no other until `ready()` (checked as each
 * source's data comes in) or `maxMs` have passed, and then one with whatever is in. For the first
 * view, called once its sources and layers are added: the frame they asked for asks for the view's
 * tiles. MapLibre otherwise draws a frame for each tile and outline as it arrives, and where WebGL
 * runs in software (the bench's headless Chromium; office machines and remote desktops without a
 * usable GPU) each frame is 60-400 ms of the CPU that MapLibre's worker needs to cut those tiles.
 * Measured at 1,000,000 premises, 10-12 loads each, interleaved: first paint p50 2.42-2.66 -> 2.25-2.34 s.
 *
 * The frame already asked for, and any other of the hold, draws nothing: it still asks for the
 * tiles, but its painter is shadowed. Drawn, that frame (the background alone, before any tile is
 * in) kept the page's main thread 150 ms waiting for the GPU process's software renderer, and
 * MapLibre's worker cannot start until that thread is free: its tile requests left up to 300 ms
 * after the map asked for them. Measured the same way, 10-12 loads each: 2.11-2.15 -> 2.00-2.03 s.
 * The map's box shows its background colour meanwhile (TheMap.vue).
 *
 * MapLibre asks for its frames through the map's `triggerRepaint` and draws them with its painter's
 * `render`; for the hold the map's and the painter's own are shadowed by ones that do nothing, and
 * the frame is asked for at the end. Answers how it ended.
 */
export function holdFrames(m: maplibregl.Map, ready: () => boolean, maxMs: number): Promise<'ready' | 'timeout' | 'removed'> {
  const held = m as unknown as { triggerRepaint?: () => void }
  held.triggerRepaint = () => {}
  const painter = (m as unknown as { painter: { render?: () => void } }).painter
  painter.render = () => {}
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const release = (why: 'ready' | 'timeout' | 'removed') => {
      m.off('sourcedata', check)
      m.off('remove', gone)
      clearTimeout(timer)
      // The prototypes' again.
      delete held.triggerRepaint
      delete painter.render
      if (why !== 'removed') m.triggerRepaint()
      resolve(why)
    }
    const check = () => {
      if (ready()) release('ready')
    }
    const gone = () => release('removed')
    m.on('sourcedata', check)
    m.on('remove', gone)
    timer = setTimeout(() => release('timeout'), maxMs)
  })
}
