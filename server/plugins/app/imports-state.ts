import type { Jurisdiction } from '../../domain/access.js'
import type { RowError } from '../../domain/ledger.js'
import { notFound } from '../../lib/http-errors.js'
import type { ImportJob, RowChange } from '../../schemas/imports.js'

/**
 * The state of ledger imports: each job as its page follows it (in memory, polled without touching
 * the database), and who may see it. The checking is in imports.ts, the comparison with the
 * database in imports-compare.ts, the writing in imports-merge.ts.
 */

/** An import's state as its page follows it (the schema is server/schemas/imports.ts). */
export type JobState = ImportJob

/** A job with what only the server keeps: whose it is, the file's hash, every problem and change. */
export interface Job extends JobState {
  userId: number
  scope: Jurisdiction
  sha256: string
  allErrors: RowError[]
  allChanges: RowChange[]
  running?: Promise<void>
}

/** The most problems and changes a job keeps for its reports. */
export const maxErrorsKept = 100_000
export const maxChangesKept = 100_000

/** The jobs of this process, by id. */
export function jobRegistry() {
  const jobs = new Map<string, Job>()
  return {
    get: (id: string) => jobs.get(id),
    set: (id: string, job: Job) => jobs.set(id, job),
    delete: (id: string) => jobs.delete(id),
    values: () => jobs.values(),

    /** What the job's page sees: the first problems and changes, nothing of the user's or the file's. */
    publicState(j: Job): JobState {
      const { userId: _u, scope: _s, sha256: _h, allErrors: _a, allChanges: _c, running: _r, ...state } = j
      return { ...state, errors: j.allErrors.slice(0, 200), changes: j.allChanges.slice(0, 200) }
    },

    isRunning: (j: Job) => j.status === 'checking' || j.status === 'committing',

    /** The user's job; another user's is as unknown as one that never was. */
    jobOf(id: string, userId: number): Job {
      const j = jobs.get(id)
      if (!j || j.userId !== userId) throw notFound(`there is no import ${id} of yours (an upload is kept for a day, and not after the server restarts; upload the file again)`, '找不到您的这次导入（上传的文件最多保留一天，服务器重启后也不再保留），请重新上传文件')
      return j
    },
  }
}
