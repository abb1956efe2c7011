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
 * MapLibre asks for its frames through the map's `triggerRepaint`; for the hold the map's own is
 * shadowed by one that does nothing, and the frame is asked for at the end. Answers how it ended.
 */
export function holdFrames(m: maplibregl.Map, ready: () => boolean, maxMs: number): Promise<'ready' | 'timeout' | 'removed'> {
  const held = m as unknown as { triggerRepaint?: () => void }
  held.triggerRepaint = () => {}
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const release = (why: 'ready' | 'timeout' | 'removed') => {
      m.off('sourcedata', check)
      m.off('remove', gone)
      clearTimeout(timer)
      // The prototype's again.
      delete held.triggerRepaint
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
