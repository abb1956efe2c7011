import { fetchAreas, fetchPoliceStations } from './reference'

export interface NamedOption { id: number; nameZh: string; nameEn: string }

/** Towns and police stations for pickers (names only, no geometry kept). */
export async function fetchJurisdictionOptions(): Promise<{ towns: NamedOption[]; stations: NamedOption[] }> {
  const [towns, stations] = await Promise.all([fetchAreas('town'), fetchPoliceStations()])
  const pick = (f: { properties: NamedOption }) => ({ id: f.properties.id, nameZh: f.properties.nameZh, nameEn: f.properties.nameEn })
  return { towns: towns.features.map(pick), stations: stations.features.map(pick) }
}
