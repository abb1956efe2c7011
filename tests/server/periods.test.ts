import { describe, expect, it } from 'vitest'
import { periodEndingOn, periods, previousReportDate, reportDates } from '../../server/domain/periods.js'

describe('report periods', () => {
  it('end on the 14th and the 29th, the first running from the campaign\'s start', () => {
    const p = periods('2019-12-15', '2020-02-20')
    expect(p.slice(0, 3)).toEqual([
      { from: '2019-12-15', to: '2019-12-29' },
      { from: '2019-12-30', to: '2020-01-14' },
      { from: '2020-01-15', to: '2020-01-29' },
    ])
  })

  it('turn at Dec 14/15 and Dec 29/30, and run over the new year from Dec 30 to Jan 14', () => {
    const p = periods('2020-12-01', '2021-01-31')
    expect(p).toContainEqual({ from: '2020-12-01', to: '2020-12-14' })
    expect(p).toContainEqual({ from: '2020-12-15', to: '2020-12-29' })
    expect(p).toContainEqual({ from: '2020-12-30', to: '2021-01-14' })
  })

  it('end in February on the 29th in a leap year and on the 28th in a common year', () => {
    expect(reportDates('2020-02-01', '2020-03-20')).toEqual(['2020-02-14', '2020-02-29', '2020-03-14', '2020-03-20'])
    expect(reportDates('2021-02-01', '2021-03-20')).toEqual(['2021-02-14', '2021-02-28', '2021-03-14', '2021-03-20'])
    expect(periods('2021-02-01', '2021-03-20')[2]).toEqual({ from: '2021-03-01', to: '2021-03-14' })
  })

  it('close with the campaign\'s last day when it is not a report day (Dec 31 → a period Dec 30–31)', () => {
    const p = periods('2019-12-15', '2020-12-31')
    expect(p[p.length - 1]).toEqual({ from: '2020-12-30', to: '2020-12-31' })
    expect(p).toHaveLength(2 + 24 + 0)
    // Every day of the campaign lies in exactly one period.
    let day = '2019-12-15'
    for (const q of p) {
      expect(q.from).toBe(day)
      day = new Date(Date.parse(`${q.to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
    }
    expect(day).toBe('2021-01-01')
  })

  it('find the previous report day and the period ending on a report day', () => {
    expect(previousReportDate('2020-06-29', '2019-12-15', '2020-12-31')).toBe('2020-06-14')
    expect(previousReportDate('2020-06-30', '2019-12-15', '2020-12-31')).toBe('2020-06-29')
    expect(previousReportDate('2019-12-20', '2019-12-15', '2020-12-31')).toBeNull()
    expect(periodEndingOn('2020-03-14', '2019-12-15', '2020-12-31')).toEqual({ from: '2020-03-01', to: '2020-03-14' })
    expect(periodEndingOn('2020-03-15', '2019-12-15', '2020-12-31')).toBeUndefined()
  })
})
