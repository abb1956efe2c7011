/**
 * The columns of a utility's readings file, shared by the server's import and the web app's column
 * mapping (no imports: the web app bundles this file as it is).
 */

export const utilities = ['electricity', 'water', 'gas'] as const
export type Utility = typeof utilities[number]

/** Hourly, daily or monthly readings. */
export type Granularity = 'h' | 'd' | 'm'

export interface ReadingField {
  key: string
  zh: string
  en: string
  aliases: string[]
  example: string
}

/** The columns a readings file may have; which of them it has decides hourly, daily or monthly. */
export const readingFields: ReadingField[] = [
  { key: 'accountNo', zh: '户号', en: 'Account number', aliases: ['用户编号', '用户号', '客户编号', '账户号', '户号编号', 'account', 'accountno'], example: '3204110001' },
  { key: 'holderName', zh: '户名', en: 'Account holder', aliases: ['用户名称', '客户名称', '用户姓名', 'holder'], example: '王某某' },
  { key: 'address', zh: '地址', en: 'Address', aliases: ['用电地址', '用水地址', '用气地址', '装表地址', '详细地址', 'address'], example: '三井街道黄河路12号3幢' },
  { key: 'premisesRef', zh: '房屋台账编号', en: 'Premises ledger ref', aliases: ['台账编号', '房屋编号', 'premisesref'], example: '' },
  { key: 'lon', zh: '经度', en: 'Longitude', aliases: ['lng', 'lon', 'x'], example: '119.9712' },
  { key: 'lat', zh: '纬度', en: 'Latitude', aliases: ['lat', 'y'], example: '31.8265' },
  { key: 'date', zh: '日期', en: 'Date', aliases: ['抄表日期', '数据日期', '用电日期', '日期时间', 'date', 'day'], example: '2020-03-01' },
  { key: 'hour', zh: '小时', en: 'Hour', aliases: ['时段', '时', 'hour'], example: '' },
  { key: 'month', zh: '月份', en: 'Month', aliases: ['账期', '抄表月份', '计费月份', '年月', 'month'], example: '' },
  { key: 'value', zh: '用量', en: 'Consumption', aliases: ['电量', '用电量', '日电量', '水量', '用水量', '气量', '用气量', '总电量', 'value', 'kwh'], example: '12.35' },
  { key: 'index', zh: '表码', en: 'Meter index', aliases: ['示数', '表示数', '止码', '本期示数', 'index'], example: '' },
  { key: 'night', zh: '谷电量', en: 'Night (valley) part', aliases: ['谷段电量', '谷时电量', '夜间电量', 'night', 'valley'], example: '4.10' },
  { key: 'unit', zh: '单位', en: 'Unit', aliases: ['计量单位', 'unit'], example: 'kWh' },
]

