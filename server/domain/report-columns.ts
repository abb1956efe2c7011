/**
 * The columns of the biweekly tables, in the notice's order (attachments 4 and 5 of 常开委办〔2019〕186号),
 * with the header path each sits under. The screen and the spreadsheet both draw their merged
 * headers from this one list.
 */

export interface ReportColumn {
  key: string
  /** Header cells from the top row down; a column's cells merge with its neighbours' equal ones. */
  path: string[]
  /** English label, for the English screen. */
  en: string
}

const hazardCats = (verb: string, verbEn: string, key: string): ReportColumn[] => [
  { key: `${key}Total`, path: ['群租房管理情况', verb, '合计（处）'], en: `${verbEn}: total` },
  { key: `${key}PublicSecurity`, path: ['群租房管理情况', verb, '其中', '治安类（处）'], en: `${verbEn}: public security` },
  { key: `${key}Fire`, path: ['群租房管理情况', verb, '其中', '消防类（处）'], en: `${verbEn}: fire` },
  { key: `${key}Housing`, path: ['群租房管理情况', verb, '其中', '住房类（处）'], en: `${verbEn}: housing` },
  { key: `${key}Other`, path: ['群租房管理情况', verb, '其中', '其他（处）'], en: `${verbEn}: other` },
]

/** Columns both tables share: group-rental management, floating population, enforcement. */
const common: ReportColumn[] = [
  { key: 'grRegistered', path: ['群租房管理情况', '登记群租房（户）'], en: 'Group rentals registered' },
  { key: 'grResidentsRegistered', path: ['群租房管理情况', '登记群租房租住人员（人）'], en: 'Residents of group rentals registered' },
  { key: 'grDeregistered', path: ['群租房管理情况', '注销群租房（户）'], en: 'Group rentals deregistered' },
  { key: 'grResidentsDeregistered', path: ['群租房管理情况', '注销群租房租住人员（人）'], en: 'Residents of group rentals deregistered' },
  { key: 'statementsSigned', path: ['群租房管理情况', '签订治安责任书（份）'], en: 'Responsibility statements signed' },
  { key: 'secondLandlords', path: ['群租房管理情况', '采集群租房二房东信息（人）'], en: 'Second landlords recorded' },
  ...hazardCats('排查安全隐患', 'Hazards found', 'found'),
  ...hazardCats('整改安全隐患', 'Hazards rectified', 'rectified'),
  { key: 'floatingRegistered', path: ['流动人口管理情况', '登记流动人口（人）'], en: 'Floating population registered' },
  { key: 'floatingMentalIllness', path: ['流动人口管理情况', '其中', '可能肇事肇祸精神病人（人）'], en: 'of them: mental illness, may cause incidents' },
  { key: 'floatingConcern', path: ['流动人口管理情况', '其中', '关注对象（人）'], en: 'of them: persons of concern' },
  { key: 'floatingOthers', path: ['流动人口管理情况', '其中', '其他（人）'], en: 'of them: others' },
  { key: 'floatingDeregistered', path: ['流动人口管理情况', '注销流动人口（人）'], en: 'Floating population deregistered' },
  { key: 'landlordsPenalised', path: ['清理整治成效', '处罚违规出租户主（人）'], en: 'Landlords penalised' },
  { key: 'floatingPenalised', path: ['清理整治成效', '处罚违规流动人口（人）'], en: 'Floating persons penalised' },
  { key: 'criminalCases', path: ['清理整治成效', '破获刑事案件（起）'], en: 'Criminal cases solved' },
  { key: 'publicSecurityCases', path: ['清理整治成效', '破获治安案件（起）'], en: 'Public-security cases solved' },
  { key: 'fugitives', path: ['清理整治成效', '比对抓获在逃人员（人）'], en: 'Fugitives caught by data matching' },
]

/** Attachment 4 (重点地区整治情况统计表): one table per key area. */
export const attachment4Columns: ReportColumn[] = [
  ...common,
  { key: 'keyAreaHazardsFound', path: ['清理整治成效', '排查隐患数（处）'], en: 'Hazards found in the key area' },
  { key: 'keyAreaHazardsRectified', path: ['清理整治成效', '整改隐患数（处）'], en: 'Hazards rectified in the key area' },
]

/** Attachment 5 (全区群租房安全隐患集中整治情况统计表): one row per police station. */
export const attachment5Columns: ReportColumn[] = [
  ...common,
  { key: 'dealtTotal', path: ['清理整治成效', '打处情况', '小计（人）'], en: 'Dealt with: total persons' },
  { key: 'arrests', path: ['清理整治成效', '打处情况', '其中', '逮捕（人）'], en: 'of them: arrested' },
  { key: 'coercive', path: ['清理整治成效', '打处情况', '其中', '其他刑事强制措施（人）'], en: 'of them: other criminal coercive measures' },
  { key: 'administrative', path: ['清理整治成效', '打处情况', '其中', '治安处罚（人）'], en: 'of them: administrative penalties' },
  { key: 'keyAreasListed', path: ['重点地区', '排查数（处）'], en: 'Key areas listed' },
  { key: 'keyAreasCleared', path: ['重点地区', '整改数（处）'], en: 'Key areas cleared to zero' },
]

/** Attachment 3 (重点地区统计表): one row per key area of a town or street. */
export const attachment3Columns: ReportColumn[] = [
  { key: 'name', path: ['重点地区名称'], en: 'Key area' },
  { key: 'town', path: ['所属街道（镇）'], en: 'Town / street' },
  { key: 'policeStation', path: ['管辖派出所'], en: 'Police station' },
  { key: 'houses', path: ['基本情况', '房屋总数（户）'], en: 'Houses' },
  { key: 'rentalHouses', path: ['基本情况', '出租房屋数（户）'], en: 'Rented houses' },
  { key: 'groupRentals', path: ['基本情况', '群租房数（户）'], en: 'Group rentals' },
  { key: 'groupRentalsWithHazards', path: ['基本情况', '存在安全隐患群租房数（户）'], en: 'Group rentals with hazards' },
  { key: 'actualPopulation', path: ['基本情况', '实有人口（人）'], en: 'Actual population' },
  { key: 'floatingPopulation', path: ['基本情况', '流动人口数（人）'], en: 'Floating population' },
  { key: 'mentalIllnessCount', path: ['基本情况', '可能肇事肇祸精神病人（人）'], en: 'Persons with mental illness who may cause incidents' },
  { key: 'personsOfConcernCount', path: ['基本情况', '关注对象（人）'], en: 'Persons of concern' },
]

export const reportNotes = [
  '1．表中群租房和流动人口登记、注销等数据均为集中整治以来工作情况，应与居住证信息系统保持一致。',
  '2．本表从12月开始每半月报送一次，每月14日、29日上报。',
  '3．关注对象是指心态失衡、行为失常、非正常上访、有暴力犯罪前科等重点人员，以及精神病人。',
]

/** The header labels in English, for the English screen (the spreadsheet stays the Chinese form). */
export const labelsEn: Record<string, string> = {
  项目: 'Item', 派出所: 'Police station', 序号: 'No.',
  群租房管理情况: 'Group-rental management', 流动人口管理情况: 'Floating population', 清理整治成效: 'Enforcement results', 重点地区: 'Key areas',
  '登记群租房（户）': 'Group rentals registered', '登记群租房租住人员（人）': 'Residents registered', '注销群租房（户）': 'Group rentals deregistered',
  '注销群租房租住人员（人）': 'Residents deregistered', '签订治安责任书（份）': 'Statements signed', '采集群租房二房东信息（人）': 'Second landlords recorded',
  排查安全隐患: 'Hazards found', 整改安全隐患: 'Hazards rectified', '合计（处）': 'Total', 其中: 'of which',
  '治安类（处）': 'Public security', '消防类（处）': 'Fire', '住房类（处）': 'Housing', '其他（处）': 'Other',
  '登记流动人口（人）': 'Registered', '可能肇事肇祸精神病人（人）': 'Mental illness (risk)', '关注对象（人）': 'Persons of concern', '其他（人）': 'Others',
  '注销流动人口（人）': 'Deregistered', '处罚违规出租户主（人）': 'Landlords penalised', '处罚违规流动人口（人）': 'Floating persons penalised',
  '破获刑事案件（起）': 'Criminal cases solved', '破获治安案件（起）': 'Public-security cases solved', '比对抓获在逃人员（人）': 'Fugitives caught',
  打处情况: 'Dealt with', '小计（人）': 'Subtotal', '逮捕（人）': 'Arrested', '其他刑事强制措施（人）': 'Other coercive measures', '治安处罚（人）': 'Administrative penalties',
  '排查数（处）': 'Listed', '整改数（处）': 'Cleared', '排查隐患数（处）': 'Hazards found in the area', '整改隐患数（处）': 'Hazards rectified in the area',
  重点地区名称: 'Key area', '所属街道（镇）': 'Town / street', 管辖派出所: 'Police station', 基本情况: 'Basic facts',
  '房屋总数（户）': 'Houses', '出租房屋数（户）': 'Rented houses', '群租房数（户）': 'Group rentals', '存在安全隐患群租房数（户）': 'Group rentals with hazards',
  '实有人口（人）': 'Actual population', '流动人口数（人）': 'Floating population',
}

/** The notes in English, for the English screen (the spreadsheet keeps the notice's Chinese). */
export const reportNotesEn = [
  '1. Registrations and deregistrations of group rentals and floating population count the work done since the campaign began; they must agree with the residence-permit system.',
  '2. Reported twice a month from December, on the 14th and the 29th.',
  '3. Persons of concern: people with an unbalanced state of mind, abnormal behaviour, abnormal petitioning or a record of violent crime, and persons with mental illness.',
]

export interface HeaderCell {
  text: string
  row: number
  col: number
  rowSpan: number
  colSpan: number
}

/**
 * The header as merged cells: the leading columns (row labels) reach down the whole header; equal
 * labels of neighbouring columns at the same depth merge across, and a column's last label reaches
 * down to the header's bottom row.
 */
export function headerCells(columns: ReportColumn[], leading: string[] = ['项目']): { cells: HeaderCell[]; depth: number } {
  const depth = Math.max(...columns.map(c => c.path.length))
  const cells: HeaderCell[] = leading.map((text, col) => ({ text, row: 0, col, rowSpan: depth, colSpan: 1 }))
  const offset = leading.length
  for (let level = 0; level < depth; level++) {
    let c = 0
    while (c < columns.length) {
      const col = columns[c]!
      const label = col.path[level]
      if (label === undefined) {
        c++
        continue
      }
      const prefix = col.path.slice(0, level + 1).join('\u0000')
      let span = 1
      while (c + span < columns.length && columns[c + span]!.path.length > level
        && columns[c + span]!.path.slice(0, level + 1).join('\u0000') === prefix) span++
      const last = level === col.path.length - 1 && span === 1
      cells.push({ text: label, row: level, col: c + offset, rowSpan: last ? depth - level : 1, colSpan: span })
      c += span
    }
  }
  return { cells, depth }
}
