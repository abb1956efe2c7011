import type { Static } from 'typebox'
import type { AssigneeSchema, ProgressSchema, TaskCreatedSchema, TaskCreateSchema, TaskDto } from '../../../server/schemas/tasks'
import { getJson, postJson } from './client'

export type Task = TaskDto
export type TaskKind = Task['kind']
export type TaskCreate = Static<typeof TaskCreateSchema>
export type TaskCreated = Static<typeof TaskCreatedSchema>
export type Progress = Static<typeof ProgressSchema>
export type Assignee = Static<typeof AssigneeSchema>

export const taskKinds: TaskKind[] = ['inspect', 'revisit', 'verify']

/** My visits; near: where I am, for the distance to each. */
export const fetchMyTasks = (status: 'open' | 'done' | 'all' = 'open', near?: [number, number]) =>
  getJson<Task[]>('/tasks/mine', { status, near: near ? `${near[0].toFixed(6)},${near[1].toFixed(6)}` : undefined })
export const fetchTasks = (q: { assigneeId?: number; status?: 'open' | 'done' | 'cancelled' | 'all'; overdue?: boolean; limit?: number } = {}) => getJson<Task[]>('/tasks', q)
export const fetchProgress = () => getJson<Progress>('/tasks/progress')
export const fetchAssignees = () => getJson<Assignee[]>('/tasks/assignees')
export const assignTasks = (body: TaskCreate) => postJson<TaskCreated>('/tasks', body)
export const cancelTask = (id: number, note?: string) => postJson<Task>(`/tasks/${id}/cancel`, { note: note || null })
