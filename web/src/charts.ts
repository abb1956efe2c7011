import { BarChart, LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent } from 'echarts/components'
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

/** The parts of ECharts the dashboard uses, registered once (keeps the bundle small). */
use([BarChart, LineChart, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, CanvasRenderer])

/** Colour-blind-safe series colours (Okabe–Ito), in the order the measures are listed. */
export const measureColours = ['#0072B2', '#009E73', '#D55E00', '#CC79A7']

export const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`)

/**
 * How much larger the charts' text is drawn: 1 on a desk; in meeting mode it grows with the
 * screen's width (×1.75 at 1920 pixels), so that titles, axes and legends read from across a room.
 */
export function chartScale(meeting: boolean, width: number): number {
  return meeting ? Math.min(2.2, Math.max(1.2, width / 1100)) : 1
}

interface Part { [key: string]: unknown }

/**
 * A dashboard chart's title, legend and plot in rows that cannot overlap, at any card width: the
 * title on the first row, the legend (scrolling when it is wider than the card) on the second, the
 * plot below with its axis labels kept inside the card. Every position is explicit because ECharts 6
 * moved its defaults (a title 20 pixels down, onto a legend placed where it used to be free).
 */
export function chartFrame(title: string, opts: { legend?: boolean; top?: number } = {}) {
  const legendRow = opts.legend ?? true
  return {
    title: { text: title, left: 0, top: 0, padding: 0, textStyle: { fontSize: 14 } },
    legend: legendRow ? { type: 'scroll' as const, top: 26, left: 0, right: 0, padding: 0, itemGap: 8 } : undefined,
    grid: { left: 4, right: 16, top: opts.top ?? (legendRow ? 58 : 30), bottom: 4, containLabel: true },
  }
}
const size = (px: number, s: number) => Math.round(px * s)

/**
 * A chart's option with its text, legend keys and margins `s` times their desk size. Every chart
 * of the dashboard passes through here, so none is left small on the meeting screen.
 */
export function scaled<T extends Part>(option: T, s: number): T {
  if (s === 1) return option
  const axis = (a: unknown) => (a && typeof a === 'object'
    ? { ...(a as Part), axisLabel: { ...((a as Part).axisLabel as Part | undefined), fontSize: size(12, s) } }
    : a)
  const o = option as Part & { title?: Part & { textStyle?: Part }; legend?: Part; grid?: Record<string, number | boolean>; series?: Part[] }
  return {
    ...option,
    textStyle: { fontSize: size(12, s) },
    title: o.title && { ...o.title, textStyle: { ...o.title.textStyle, fontSize: size(14, s) } },
    legend: o.legend && { ...o.legend, top: size(Number(o.legend.top ?? 0), s), itemWidth: size(25, s), itemHeight: size(14, s), textStyle: { fontSize: size(12, s) } },
    tooltip: { ...(option.tooltip as Part | undefined), textStyle: { fontSize: size(14, s) } },
    grid: o.grid && Object.fromEntries(Object.entries(o.grid).map(([k, v]) => [k, typeof v === 'number' ? size(v, s) : v])),
    xAxis: axis(option.xAxis),
    yAxis: axis(option.yAxis),
    series: o.series?.map(x => ({ ...x, label: x.label && { ...(x.label as Part), fontSize: size(12, s) } })),
  }
}
