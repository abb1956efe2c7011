import type { EnforcementKind, FlagCategory } from './lists.js'

/**
 * What the enforcement results and the residents' special categories (both listed in lists.ts)
 * are called and where the biweekly tables count them.
 */

/** The report column (a ReportCounts key) each enforcement kind is counted in. */
export const enforcementColumn = {
  landlord_penalised: 'landlordsPenalised', floating_person_penalised: 'floatingPenalised', criminal_case_solved: 'criminalCases',
  public_security_case_solved: 'publicSecurityCases', fugitive_caught: 'fugitives',
  arrest: 'arrests', criminal_coercive_measure: 'coercive', administrative_penalty: 'administrative',
} as const satisfies Record<EnforcementKind, string>

/** The kinds' Chinese names, as the ledgers and the notice write them (the import reads these too). */
export const enforcementKindZh: Record<EnforcementKind, string> = {
  landlord_penalised: '处罚违规出租户主', floating_person_penalised: '处罚违规流动人口', criminal_case_solved: '破获刑事案件',
  public_security_case_solved: '破获治安案件', fugitive_caught: '比对抓获在逃人员',
  arrest: '逮捕', criminal_coercive_measure: '其他刑事强制措施', administrative_penalty: '治安处罚',
}

export const flagCategoryZh: Record<FlagCategory, string> = { mental_illness: '可能肇事肇祸精神病人', person_of_concern: '关注对象' }
