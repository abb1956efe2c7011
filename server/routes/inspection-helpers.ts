import type { HazardRow } from '../plugins/app/inspection.js'

const iso = (d: Date | null) => (d ? d.toISOString() : null)

interface HazardEvent { at: Date; status: string; departmentCode: string | null; note: string | null; username: string | null }

/** A hazard row as the API answers it (times as ISO strings). */
export function hazardDto(h: HazardRow & { events?: HazardEvent[] }) {
  return {
    ...h,
    foundAt: h.foundAt.toISOString(),
    referredAt: iso(h.referredAt),
    rectifiedAt: iso(h.rectifiedAt),
    verifiedAt: iso(h.verifiedAt),
    events: h.events?.map(e => ({ ...e, at: e.at.toISOString() })),
  }
}
