import type * as maplibregl from 'maplibre-gl'

interface Variant { name: string; define: string; prelude: unknown }
interface Layer {
  id: string
  type: string
  visibility?: string
  paint: { get: (name: string) => unknown }
  createBucket?: (options: object) => { programConfigurations: { get: (id: string) => unknown } }
}
interface Internals {
  painter: { programCache: { getProgram: (variant: object) => unknown } }
  style: {
    _order: string[]
    _layers: Record<string, Layer>
    projection: { shaderVariantName: string; shaderDefine: string; shaderPreludeCode: unknown }
  }
}

const constant = (p: unknown) => (p as { constantOr?: (v: number) => unknown } | undefined)?.constantOr?.(1)

/**
 * Compiles the WebGL programs that the map's background, fill, line and circle layers draw with, as
 * MapLibre would when it first draws them, and keeps them in its painter's cache: called while the
 * first view's tiles are on their way, so that the frame that draws them does not wait on the
 * compiler. With WebGL in software each program kept the page's thread 5-15 ms in that frame.
 * Mirrors MapLibre 6's choice of program per layer (drawFill, drawLine, drawCircles); MapLibre's
 * internals are not its API, so anything unexpected leaves the compiling to the frame. Answers how
 * many programs were asked for.
 */
export function compilePrograms(m: maplibregl.Map): number {
  try {
    const { painter, style } = m as unknown as Internals
    const projection = style.projection
    const projectionShaderVariant: Variant = { name: projection.shaderVariantName, define: projection.shaderDefine, prelude: projection.shaderPreludeCode }
    const zoom = m.getZoom()
    let asked = 0
    const compile = (name: string, programConfiguration?: unknown) => {
      painter.programCache.getProgram({ name, programConfiguration, projectionShaderVariant, showOverdrawInspector: false, useTerrain: false, defines: [] })
      asked++
    }
    // Every tile's stencil mask, and the sky drawn behind the map.
    compile('clippingMask')
    compile('sky')
    for (const id of style._order) {
      const layer = style._layers[id]!
      if (layer.visibility === 'none') continue
      if (layer.type === 'background') {
        // A background's pattern is a plain value; a fill's and a line's may vary by feature.
        compile(layer.paint.get('background-pattern') ? 'backgroundPattern' : 'background')
        continue
      }
      if (!['fill', 'line', 'circle'].includes(layer.type) || !layer.createBucket) continue
      const configuration = layer.createBucket({ zoom, overscaling: 1, layers: [layer], index: 0, sourceLayerIndex: 0 }).programConfigurations.get(layer.id)
      if (!configuration) continue
      if (layer.type === 'circle') {
        compile('circle', configuration)
      }
      else if (layer.type === 'fill') {
        const pattern = constant(layer.paint.get('fill-pattern'))
        compile(pattern ? 'fillPattern' : 'fill', configuration)
        if (layer.paint.get('fill-antialias')) compile(pattern ? 'fillOutlinePattern' : 'fillOutline', configuration)
      }
      else {
        const pattern = constant(layer.paint.get('line-pattern'))
        const dasharray = constant(layer.paint.get('line-dasharray'))
        const gradient = layer.paint.get('line-gradient')
        compile(pattern ? 'linePattern' : dasharray && gradient ? 'lineGradientSDF' : dasharray ? 'lineSDF' : gradient ? 'lineGradient' : 'line', configuration)
      }
    }
    return asked
  }
  catch {
    return 0
  }
}
