import ExcelJS from 'exceljs'
import { describe, expect, it } from 'vitest'
import { addDays, daysBetween, endOfDay, localDateTime, localDay, localMinute, pickerDay, startOfDay, today } from '../../server/domain/calendar.js'
import { attachment4Columns } from '../../server/domain/report-columns.js'
import { addReportSheet } from '../../server/domain/report-xlsx.js'
import type { ReportTable } from '../../server/plugins/app/reports.js'

/**
 * The district's calendar (server/domain/calendar.ts): China Standard Time, UTC+8 all year. The
 * hours between midnight and 08:00 there are where a UTC date is a day behind.
 */

describe('the district calendar', () => {
  it('puts an instant between midnight and 08:00 in the district on the district\'s day, not the UTC date', () => {
    expect(localDay('2020-01-14T16:00:00Z')).toBe('2020-01-15')
    expect(localDay(new Date('2020-01-14T23:59:59Z'))).toBe('2020-01-15')
    expect(localDay('2020-01-14T15:59:59.999Z')).toBe('2020-01-14')
    expect(today(Date.parse('2020-02-28T17:00:00Z'))).toBe('2020-02-29')
  })

  it('starts and ends a day at the district\'s midnight', () => {
    expect(startOfDay('2020-01-15').toISOString()).toBe('2020-01-14T16:00:00.000Z')
    expect(endOfDay('2020-01-15').toISOString()).toBe('2020-01-15T16:00:00.000Z')
    expect(endOfDay('2020-12-31').toISOString()).toBe('2020-12-31T16:00:00.000Z')
  })

  it('writes times on the district\'s clock', () => {
    expect(localMinute('2020-01-14T17:05:09Z')).toBe('2020-01-15 01:05')
    expect(localDateTime(new Date('2020-01-14T17:05:09Z'))).toBe('2020-01-15 01:05:09')
  })

  it('counts days across month and leap-year ends', () => {
    expect(addDays('2020-02-28', 1)).toBe('2020-02-29')
    expect(addDays('2020-03-01', -1)).toBe('2020-02-29')
    expect(addDays('2019-12-29', 7)).toBe('2020-01-05')
    expect(daysBetween('2020-02-28', '2020-03-01')).toBe(2)
    expect(daysBetween('2020-03-01', '2020-02-28')).toBe(-2)
  })

  it('reads a date picker\'s cell (a local midnight) as its own day in a browser east of Greenwich', () => {
    const zone = process.env.TZ
    try {
      // Node applies a TZ set at run time to Dates made afterwards.
      for (const tz of ['Asia/Shanghai', 'America/New_York', 'UTC']) {
        process.env.TZ = tz
        expect(pickerDay(new Date(2020, 0, 15))).toBe('2020-01-15')
        expect(pickerDay(new Date(2020, 1, 29))).toBe('2020-02-29')
      }
    }
    finally {
      if (zone === undefined) delete process.env.TZ
      else process.env.TZ = zone
    }
  })
})

describe('a submitted table\'s spreadsheet', () => {
  it('dates 填表日期 with the district\'s day of the submission, not the UTC date', async () => {
    const table: ReportTable = {
      report: 'attachment-4', title: '群租房情况统计表', titleEn: 'Group rentals', unit: '三井街道', unitEn: 'Sanjing', subject: 'town:1',
      period: { from: '2020-01-01', to: '2020-01-14' }, leading: ['单位'], leadingEn: ['Unit'],
      columns: attachment4Columns.slice(0, 3), rows: [], notes: [],
      // 01:30 on 15 January in the district.
      submission: { submittedAt: '2020-01-14T17:30:00.000Z', submittedBy: 'commander', filledBy: '张三', reviewedBy: null },
      differences: [],
    }
    const wb = new ExcelJS.Workbook()
    const ws = addReportSheet(wb, table)
    const texts: string[] = []
    ws.eachRow(row => row.eachCell((cell) => { if (typeof cell.value === 'string') texts.push(cell.value) }))
    expect(texts).toContain('填表日期：2020-01-15')
  })
})
