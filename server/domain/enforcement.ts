/**
 * Enforcement results (清理整治成效 and 打处情况 of attachments 4 and 5): the kinds of record, in
 * the notice's column order, with the column each is counted in. The one list: the database's
 * check, the API's schema, the import and the tables all follow it.
 */
export const enforcementKinds = [
  'landlord_penalised', 'floating_person_penalised', 'criminal_case_solved', 'public_security_case_solved', 'fugitive_caught',
  'arrest', 'criminal_coercive_measure', 'administrative_penalty',
] as const
export type EnforcementKind = typeof enforcementKinds[number]

/** The report column (a ReportCounts key) each kind is counted in. */
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

/** The two special categories of residents (DOMAIN.md, Residents). */
export const flagCategories = ['mental_illness', 'person_of_concern'] as const
export type FlagCategory = typeof flagCategories[number]
export const flagCategoryZh: Record<FlagCategory, string> = { mental_illness: '可能肇事肇祸精神病人', person_of_concern: '关注对象' }
