import * as echarts from 'echarts'
import { describe, expect, it } from 'vitest'
import { chartFrame, chartScale, scaled } from '../../web/src/charts.js'
import en from '../../web/src/locales/en.js'
import zh from '../../web/src/locales/zh-CN.js'

/**
 * The dashboard's charts drawn by ECharts itself (server-side, as SVG) at the widths a chart card has
 * on a desk (1280 and 1440 pixels wide: about 360 and 420) and on the meeting screen: the title, the
 * legend and the plot's top label must lie in separate rows.
 */
interface Box { text: string; top: number; bottom: number }

/** Every text ECharts drew, with its vertical extent (centred on its y, which is the translation's plus its own). */
function texts(svg: string): Box[] {
  return [...svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)].map(([, attrs, text]) => {
    const size = Number(/font-size:([\d.]+)px/.exec(attrs!)?.[1])
    const y = Number(/ y="([\d.-]+)"/.exec(attrs!)?.[1] ?? 0) + Number(/translate\([\d.-]+ ([\d.-]+)\)/.exec(attrs!)?.[1] ?? 0)
    return { text: text!, top: y - size / 2, bottom: y + size / 2 }
  })
}

function draw(title: string, legend: string[], width: number, scale: number) {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height: 330 * scale })
  try {
    chart.setOption(scaled({
      ...chartFrame(title),
      xAxis: { type: 'category', data: ['12-29', '02-29'] },
      yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
      series: legend.map(name => ({ name, type: 'line', data: [40, 90] })),
    }, scale))
    return texts(chart.renderToSVGString())
  }
  finally {
    chart.dispose()
  }
}

const cases = [
  ...[360, 420].map(width => ({ width, scale: 1 })),
  { width: 820, scale: chartScale(true, 1920) },
]

describe('a dashboard chart\'s frame', () => {
  for (const [locale, m] of [['zh-CN', zh], ['en', en]] as const) {
    for (const { width, scale } of cases) {
      it(`draws the title above the legend and the legend above the plot (${locale}, ${width} px, text ×${scale})`, () => {
        const names = [m.measures.group_rentals_registered, m.measures.residents_registered, m.measures.major_hazards_rectified, m.measures.hazards_rectified]
        const boxes = draw(m.dashboard.trend, names, width, scale)
        const title = boxes.find(b => b.text === m.dashboard.trend)!
        const legend = boxes.filter(b => names.includes(b.text))
        const top = boxes.find(b => b.text === '100%')!
        expect(title).toBeDefined()
        expect(legend.length).toBeGreaterThan(0)
        expect(title.top).toBeGreaterThanOrEqual(0)
        for (const l of legend) expect(l.top, `${l.text} under the title`).toBeGreaterThanOrEqual(title.bottom)
        expect(top.top, 'the plot under the legend').toBeGreaterThanOrEqual(Math.max(...legend.map(l => l.bottom)))
      })
    }
  }
})
