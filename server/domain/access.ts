/**
 * Roles, permissions and jurisdictions (DOMAIN.md, "Who uses the product"). Every route declares
 * one permission; a role holds a fixed set of them. Nothing is allowed that is not listed here.
 */
import { type Role, roles } from './lists.js'

export { type Role, roles }

export const permissions = [
  /** No sign-in needed: health, sign-in, the web app's files. */
  'public',
  /** Any signed-in user: who am I, sign out, reference data. */
  'session',
  /** Premises on the map and their facts (no people). */
  'map:read',
  /** The measures and rankings. */
  'stats:read',
  /** Names, phones and masked ID numbers of residents, owners and second landlords. */
  'people:read',
  /** A full ID number, with a stated reason (logged). */
  'people:reveal',
  /** The two special categories of residents. */
  'special:read',
  /** Recording premises, residents and hazards. */
  'inspection:write',
  /** Entering, editing and voiding enforcement results (penalties, cases, arrests), and reading them one by one. */
  'enforcement:write',
  /** Setting and clearing the two special categories on a resident. */
  'special:write',
  /** Drawing and listing key areas. */
  'key-areas:write',
  /** Cluster and ring analyses. */
  'analysis:run',
  /** Exports of premises and hazards. */
  'export',
  /** Submitting the biweekly tables (frozen once submitted). */
  'reports:submit',
  /** Importing paper ledgers of premises, residents and hazards. */
  'import',
  /** User accounts. */
  'users:admin',
  /** The audit trail. */
  'audit:read',
  /** Assigning visits (tasks) to inspectors and following their progress. */
  'tasks:assign',
  /** One's own assigned visits: the list, and closing one. */
  'tasks:work',
  /** Leads from utility and registration data: the ranked list, the map layer, a lead's signals. */
  'leads:read',
  /** Training the lead model and reading its versions. */
  'leads:model',
  /** The supervision list and board (挂牌督办), the 督办通报 and the escalation rules. */
  'supervision:read',
  /** Listing for supervision and closing with evidence. */
  'supervision:write',
  /** Listing an item for supervision (挂牌督办) and drawing a revisit sample (明察暗访): decisions of leaders as well as commanders. */
  'supervision:list',
  /** The campaign's own settings, such as its escalation rules. */
  'campaign:admin',
] as const
export type Permission = typeof permissions[number]

const base: Permission[] = ['session', 'map:read', 'stats:read']

export const grants: Record<Role, ReadonlySet<Permission>> = {
  // Leaders and analysts see counts and places, never people.
  // Leaders list items for supervision and order revisits; closing and recording outcomes are the commanders' work.
  leader: new Set([...base, 'analysis:run', 'supervision:read', 'supervision:list']),
  analyst: new Set([...base, 'analysis:run', 'export', 'leads:read', 'supervision:read']),
  commander: new Set([...base, 'people:read', 'people:reveal', 'special:read', 'special:write', 'inspection:write', 'enforcement:write', 'key-areas:write', 'analysis:run', 'export', 'reports:submit', 'import', 'tasks:assign', 'leads:read', 'supervision:read', 'supervision:write', 'supervision:list']),
  inspector: new Set([...base, 'people:read', 'people:reveal', 'special:read', 'special:write', 'inspection:write', 'enforcement:write', 'export', 'tasks:work', 'leads:read']),
  // Administrators manage accounts and read the trail; they see no personal data. Retraining the
  // lead model is theirs too: it reads outcomes and signals, never people.
  // The campaign's settings (escalation rules) are reference data, the administrators' too.
  admin: new Set([...base, 'users:admin', 'audit:read', 'leads:model', 'campaign:admin']),
}

export function can(role: Role, permission: Permission): boolean {
  return permission === 'public' || grants[role].has(permission)
}

export type JurisdictionKind = 'district' | 'town' | 'police_station'

/** Where a user may look: the whole district, one town/street or one police station's area. */
export interface Jurisdiction {
  kind: JurisdictionKind
  /** Town (admin_area) or police station id; null for the district. */
  id: number | null
}

export const wholeDistrict: Jurisdiction = { kind: 'district', id: null }
