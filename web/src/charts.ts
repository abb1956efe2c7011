import { BarChart, LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent } from 'echarts/components'
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

/** The parts of ECharts the dashboard uses, registered once (keeps the bundle small). */
use([BarChart, LineChart, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, CanvasRenderer])

/** Colour-blind-safe series colours (Okabe–Ito), in the order the measures are listed. */
export const measureColours = ['#0072B2', '#009E73', '#D55E00', '#CC79A7']

export const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`)
