import type { Static } from 'typebox'
import type {
  KeyAreaAttributes, KeyAreaCollectionSchema, KeyAreaDetailSchema, KeyAreaVersionSchema, PreviewSchema,
} from '../../../server/schemas/key-areas'
import { getJson, send } from './client'

export type KeyAreaCollection = Static<typeof KeyAreaCollectionSchema>
export type KeyAreaDetail = Static<typeof KeyAreaDetailSchema>
export type KeyAreaVersion = Static<typeof KeyAreaVersionSchema>
export type Preview = Static<typeof PreviewSchema>
export type PolygonGeometry = { type: 'Polygon' | 'MultiPolygon'; coordinates: unknown[] }

export type KeyAreaForm = KeyAreaAttributes

export const fetchKeyAreas = () => getJson<KeyAreaCollection>('/key-areas')
export const fetchKeyArea = (id: number) => getJson<KeyAreaDetail>(`/key-areas/${id}`)
export const fetchVersions = (id: number) => getJson<KeyAreaVersion[]>(`/key-areas/${id}/versions`)
export const fetchCommanders = () => getJson<{ id: number; username: string; displayName: string }[]>('/key-areas/commanders')
export const previewKeyArea = (geometry: PolygonGeometry, excludeId?: number) => send<Preview>('POST', '/key-areas/preview', { geometry, excludeId })

const feature = (geometry: PolygonGeometry, properties: KeyAreaForm) => ({ type: 'Feature', geometry, properties })
export const createKeyArea = (geometry: PolygonGeometry, properties: KeyAreaForm, clip: boolean) =>
  send<KeyAreaDetail>('POST', '/key-areas', feature(geometry, properties), { params: { clip: clip || undefined } })
/** Writes over the version the user edited: a newer one on the server makes this fail with 412. */
export const updateKeyArea = (id: number, version: number, geometry: PolygonGeometry, properties: KeyAreaForm, clip: boolean) =>
  send<KeyAreaDetail>('PUT', `/key-areas/${id}`, feature(geometry, properties), { params: { clip: clip || undefined }, headers: { 'if-match': `"${version}"` } })
export const deleteKeyArea = (id: number, version: number) => send<void>('DELETE', `/key-areas/${id}`, undefined, { headers: { 'if-match': `"${version}"` } })
