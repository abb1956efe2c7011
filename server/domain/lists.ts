/**
 * The domain's closed lists, each declared once: the TypeBox schemas (server/schemas), the
 * repositories, the seed and the web app's options are built from these, and a test holds the
 * database's CHECK constraints to them (tests/server/lists.test.ts). Pure: the web app imports it.
 * Labels live in the locale files and the reference tables, not here.
 */

/** Coordinate systems met in the field: GPS (WGS-84), AutoNavi/Tencent (GCJ-02), Baidu (BD-09). */
export const coordinateSystems = ['wgs84', 'gcj02', 'bd09'] as const
export type CoordinateSystem = typeof coordinateSystems[number]

/** Kinds of premises. 'rental' is an ordinary let dwelling (出租房屋). */
export const premisesKinds = ['group_rental', 'rental', 'homestay', 'family_hotel', 'factory_dormitory', 'care_home'] as const
export type PremisesKind = typeof premisesKinds[number]

/**
 * A premises' hazard status on the map, from the least to the most urgent: the order ranks them
 * where several premises share a point or a tile cell (the most urgent wins).
 */
export const hazardStatuses = ['none', 'rectified', 'open_general', 'open_major', 'overdue'] as const
export type HazardStatus = typeof hazardStatuses[number]

/** Hazard categories of the dictionary (attachment 2 of the notice), in its order. */
export const hazardCategories = ['public_security', 'fire', 'housing', 'other'] as const
export type HazardCategory = typeof hazardCategories[number]

/** Kinds of the places where the notice says group rentals concentrate. */
export const placeKinds = ['campus', 'factory', 'urban_village', 'urban_rural_fringe', 'resettlement_estate', 'underground_space'] as const
export type PlaceKind = typeof placeKinds[number]

/** The campaign's four measures (DOMAIN.md), in the order the dashboard shows them. */
export const measureKeys = ['group_rentals_registered', 'residents_registered', 'major_hazards_rectified', 'hazards_rectified'] as const
export type MeasureKey = typeof measureKeys[number]

/** Roles, from the widest view down; what each may do is in server/domain/access.ts. */
export const roles = ['leader', 'commander', 'analyst', 'inspector', 'admin'] as const
export type Role = typeof roles[number]

/**
 * Enforcement results (清理整治成效 and 打处情况 of attachments 4 and 5), in the notice's column
 * order; the column each is counted in is in domain/enforcement.ts.
 */
export const enforcementKinds = [
  'landlord_penalised', 'floating_person_penalised', 'criminal_case_solved', 'public_security_case_solved', 'fugitive_caught',
  'arrest', 'criminal_coercive_measure', 'administrative_penalty',
] as const
export type EnforcementKind = typeof enforcementKinds[number]

/** The two special categories of residents (DOMAIN.md, Residents). */
export const flagCategories = ['mental_illness', 'person_of_concern'] as const
export type FlagCategory = typeof flagCategories[number]

/** A lead's score band: A ≥ 0.75, B ≥ 0.5, C ≥ 0.25, D below. */
export const leadBands = ['A', 'B', 'C', 'D'] as const

/** Where a lead stands: new, open (looked at), assigned (a visit issued), visited. */
export const leadStatuses = ['new', 'open', 'assigned', 'visited'] as const
export type LeadStatus = typeof leadStatuses[number]

/** What the visit of a lead found. */
export const visitOutcomes = ['group_rental', 'other_rental', 'not_rental', 'no_access'] as const
export type VisitOutcome = typeof visitOutcomes[number]

/** The premises kinds an "another kind of rental" outcome may record: every kind but a group rental. */
export const otherRentalKinds = ['rental', 'homestay', 'family_hotel', 'factory_dormitory', 'care_home'] as const satisfies readonly Exclude<PremisesKind, 'group_rental'>[]

/** What a supervision listing (挂牌督办) names: a major hazard, a premises or a key area. */
export const supervisionKinds = ['hazard', 'premises', 'key_area'] as const
export type SupervisionKind = typeof supervisionKinds[number]

/** Who lists an item for supervision (督办层级): the district, or a town/street. */
export const supervisingLevels = ['district', 'town'] as const
export type SupervisingLevel = typeof supervisingLevels[number]

/** Who hears that a supervision item reached a level: its jurisdiction's commanders, or the district. */
export const escalationAudiences = ['jurisdiction', 'district'] as const
export type EscalationAudience = typeof escalationAudiences[number]

/** What a user is told in the inbox. */
export const noticeKinds = ['task-assigned', 'escalation', 'key-area-proposal', 'submission-due', 'report-overdue'] as const

/** What a revisit (明察暗访) found. */
export const revisitOutcomes = ['still_rectified', 'relapsed', 'record_wrong'] as const
export type RevisitOutcome = typeof revisitOutcomes[number]

/** What a town confirms when it submits a key area for acceptance (检查验收), in the order shown. */
export const acceptanceChecklist = ['hazards-cleared', 'ledgers-complete', 'registrations-complete', 'site-inspected', 'documents-filed'] as const

/** Where a key area stands in acceptance: not submitted yet, awaiting a decision, returned, or accepted (delisted). */
export const acceptanceStages = ['in-remediation', 'submitted', 'returned', 'accepted'] as const
type AcceptanceStage = typeof acceptanceStages[number]

/**
 * A key area's acceptance stage from its status and its last submission's decision (undefined: never
 * submitted; null: awaiting a decision). A delisted key area is accepted whatever its history says.
 */
export function acceptanceStageOf(status: string, lastDecision: 'accepted' | 'returned' | null | undefined): AcceptanceStage {
  if (status === 'delisted') return 'accepted'
  if (lastDecision === undefined) return 'in-remediation'
  return lastDecision === null ? 'submitted' : lastDecision
}
