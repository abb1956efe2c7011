import type { Sql, Tx } from '../../db/index.js'
import { can, type Jurisdiction, type Role } from '../../domain/access.js'
import { maskPersonalText } from '../../domain/redact.js'

/**
 * Who reads key areas: where they may look, whether they see drafts, whether they see people.
 * A draft (a proposal from the cluster analysis, or a boundary a commander has not listed yet) is
 * seen only by those who may list it: commanders whose jurisdiction holds it. Names are free text
 * and are masked for roles that do not see people (an ID or phone number typed into one).
 */
export interface KeyAreaViewer {
  jurisdiction: Jurisdiction
  drafts: boolean
  people: boolean
}

/** The viewer a signed-in user is. */
export function keyAreaViewer(user: { role: Role; jurisdiction: Jurisdiction }): KeyAreaViewer {
  return { jurisdiction: user.jurisdiction, drafts: can(user.role, 'key-areas:write'), people: can(user.role, 'people:read') }
}

/**
 * Key areas a viewer may see, as SQL on a key_area row: by the town or police station they were
 * listed for, and drafts only for those who may list them.
 */
export function keyAreaScope(sql: Sql | Tx, viewer: KeyAreaViewer, alias = 'k') {
  const a = sql(alias)
  const drafts = viewer.drafts ? sql`` : sql`and ${a}.status <> 'draft'`
  switch (viewer.jurisdiction.kind) {
    case 'district': return sql`true ${drafts}`
    case 'town': return sql`${a}.town_id = ${viewer.jurisdiction.id!} ${drafts}`
    case 'police_station': return sql`${a}.police_station_id = ${viewer.jurisdiction.id!} ${drafts}`
  }
}

/** A key area's name as a viewer may read it. */
export function keyAreaNameFor<T extends string | null>(viewer: KeyAreaViewer, name: T): T {
  return (name === null || viewer.people ? name : maskPersonalText(name)) as T
}
