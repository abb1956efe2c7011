import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { type LocationQuery, useRoute, useRouter } from 'vue-router'
import { shapeFromParam } from '../../../server/domain/drawn-shape'
import { hazardCategories, hazardStatuses, premisesKinds } from '../../../server/domain/lists'

export const kindOptions = premisesKinds
/** The most urgent status first. */
export const statusOptions = [...hazardStatuses].reverse()
export const categoryOptions = hazardCategories

export interface MapFilters {
  kinds: string[]
  statuses: string[]
  categories: string[]
  towns: number[]
  communities: number[]
  stations: number[]
  major: boolean
  overdue: boolean
  foundFrom: string
  foundTo: string
  asOf: string
  /** A shape drawn on the map, as the API's `within` parameter ('' for none). */
  within: string
}

const empty = (): MapFilters => ({
  kinds: [], statuses: [], categories: [], towns: [], communities: [], stations: [],
  major: false, overdue: false, foundFrom: '', foundTo: '', asOf: '', within: '',
})

const list = (v: unknown) => (typeof v === 'string' && v ? v.split(',') : [])
const ids = (v: unknown) => list(v).map(Number).filter(n => Number.isInteger(n) && n > 0)
const day = (v: unknown) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : '')

/** The filters as they appear in the page's URL (and in the API's query strings). */
export function filtersToQuery(f: MapFilters): Record<string, string> {
  const q: Record<string, string> = {}
  if (f.kinds.length) q.kind = f.kinds.join(',')
  if (f.statuses.length) q.status = f.statuses.join(',')
  if (f.categories.length) q.category = f.categories.join(',')
  if (f.towns.length) q.town = f.towns.join(',')
  if (f.communities.length) q.community = f.communities.join(',')
  if (f.stations.length) q.policeStation = f.stations.join(',')
  if (f.major) q.major = 'true'
  if (f.overdue) q.overdue = 'true'
  if (f.foundFrom) q.foundFrom = f.foundFrom
  if (f.foundTo) q.foundTo = f.foundTo
  if (f.asOf) q.asOf = f.asOf
  if (f.within) q.within = f.within
  return q
}

export function filtersFromQuery(q: LocationQuery): MapFilters {
  return {
    kinds: list(q.kind).filter(k => (kindOptions as readonly string[]).includes(k)),
    statuses: list(q.status).filter(s => (statusOptions as readonly string[]).includes(s)),
    categories: list(q.category).filter(c => (categoryOptions as readonly string[]).includes(c)),
    towns: ids(q.town),
    communities: ids(q.community),
    stations: ids(q.policeStation),
    major: q.major === 'true',
    overdue: q.overdue === 'true',
    foundFrom: day(q.foundFrom),
    foundTo: day(q.foundTo),
    asOf: day(q.asOf),
    // A shape the server would refuse (a mangled link) is dropped rather than failing every request.
    within: typeof q.within === 'string' && 'corners' in shapeFromParam(q.within) ? q.within : '',
  }
}

/**
 * The one set of filters that drives the map's tiles, the legend's counts and the measures in the
 * header. It lives in the URL, so a view can be shared by copying the address.
 */
export const useMapFiltersStore = defineStore('mapFilters', () => {
  const route = useRoute()
  const router = useRouter()
  const filters = ref<MapFilters>(filtersFromQuery(route.query))
  /** Bumped after every write, so that tiles and counts are fetched again. */
  const dataVersion = ref(0)

  const query = computed(() => filtersToQuery(filters.value))
  const active = computed(() => Object.keys(query.value).filter(k => k !== 'asOf').length)

  // URL → store (back/forward, a pasted link); store → URL.
  const synced = () => route.name === 'map' || route.name === 'dashboard' || route.name === 'analysis'
  watch(() => route.query, (q) => {
    if (!synced()) return
    const next = filtersFromQuery(q)
    if (JSON.stringify(filtersToQuery(next)) !== JSON.stringify(query.value)) filters.value = next
  })
  watch(query, (q) => {
    if (!synced()) return
    if (JSON.stringify(q) !== JSON.stringify(filtersToQuery(filtersFromQuery(route.query)))) {
      // Keep the page's own parameters (the open premises, meeting mode).
      const own = Object.fromEntries(['premises', 'meeting', 'at'].filter(k => route.query[k]).map(k => [k, route.query[k]]))
      void router.replace({ query: { ...q, ...own } })
    }
  })

  function reset() {
    filters.value = { ...empty(), asOf: filters.value.asOf }
  }

  function dataChanged() {
    dataVersion.value++
  }

  return { filters, query, active, dataVersion, reset, dataChanged }
})
