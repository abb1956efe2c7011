import type { NearPremises, SearchAnswer, SearchResult } from '../../../server/schemas/search'
import { getJson, postJson } from './client'

export type { NearPremises, SearchAnswer, SearchResult }

/**
 * Searches places (and people, for roles that see them). Always sent as POST: what is typed may
 * be a name, a phone or an ID number, none of which belongs in a URL.
 */
export const search = (q: string, limit = 10) => postJson<SearchAnswer>('/search', { q, limit })

/** The premises nearest a point (WGS-84), nearest first, within the user's jurisdiction. */
export const fetchNear = (lon: number, lat: number, limit = 20) => getJson<NearPremises[]>('/premises/near', { lon, lat, limit })
