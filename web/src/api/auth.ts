import type { Static } from 'typebox'
import type { AuditRowSchema, DemoSchema, Me, SessionState, UserDto } from '../../../server/schemas/access'
import { getJson, patchJson, postJson } from './client'

export type { Me, SessionState, UserDto }
export type Demo = Static<typeof DemoSchema>
export type AuditRow = Static<typeof AuditRowSchema>
export type Role = Me['role']
export interface JurisdictionInput { kind: 'district' | 'town' | 'police_station'; id?: number | null }

/** Who is signed in, if anyone: answers signed out without a refusal (the sign-in page asks it first). */
export const fetchSession = () => getJson<SessionState>('/auth/session')
export const fetchDemo = () => getJson<Demo>('/auth/demo')
export const login = (username: string, password: string) => postJson<Me>('/auth/login', { username, password })
export const logout = () => postJson<void>('/auth/logout')

export const fetchUsers = () => getJson<UserDto[]>('/users')
export const createUser = (u: { username: string; displayName: string; role: Role; jurisdiction: JurisdictionInput; password: string }) =>
  postJson<UserDto>('/users', u)
export const updateUser = (id: number, change: { displayName?: string; role?: Role; jurisdiction?: JurisdictionInput; disabled?: boolean }) =>
  patchJson<UserDto>(`/users/${id}`, change)
export const resetPassword = (id: number, password: string) => postJson<void>(`/users/${id}/password`, { password })
export const revokeSessions = (id: number) => postJson<{ ended: number }>(`/users/${id}/revoke-sessions`)

export const fetchAudit = (q: Record<string, string | number | undefined>) => getJson<AuditRow[]>('/audit', q)
