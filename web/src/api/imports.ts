import { ApiError, getJson, localMessage, postJson, send } from './client'

export type LedgerKind = 'premises' | 'residents' | 'hazards'
export type Crs = 'wgs84' | 'gcj02' | 'bd09'

export interface ImportJob {
  id: string
  kind: LedgerKind
  fileName: string
  status: 'uploaded' | 'checking' | 'validated' | 'committing' | 'committed' | 'failed'
  phase: 'reading' | 'checking' | 'writing' | 'merging' | null
  done: number
  total: number
  rows: number
  headings: string[]
  suggestedMapping: Record<string, string>
  crs: Crs | null
  mapping: Record<string, string> | null
  summary: null | { rows: number; valid: number; invalid: number; create: number; update: number; unchanged: number; committed: boolean }
  errors: { line: number; column: string; value: string; reason: string }[]
  errorCount: number
  /** The first rows that create or update a record; `changeCount` of them in all. */
  changes: { line: number; ref: string; action: 'create' | 'update'; label: string; fields: { field: string; before: string; after: string }[] }[]
  changeCount: number
  message: string | null
  messageZh: string | null
}

/** Sends the file itself as the body, reporting the upload's progress (0 to 1). */
export function uploadLedger(kind: LedgerKind, file: File, onProgress: (share: number) => void): Promise<ImportJob> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `/api/imports?kind=${kind}&fileName=${encodeURIComponent(file.name)}`)
    xhr.setRequestHeader('content-type', 'application/octet-stream')
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total) }
    xhr.onload = () => {
      let body: { message?: string; messageZh?: string; reason?: string } & Partial<ImportJob> = {}
      try { body = JSON.parse(xhr.responseText) } catch { /* not JSON */ }
      if (xhr.status === 201) resolve(body as ImportJob)
      else reject(new ApiError(xhr.status, body.message ? localMessage({ message: body.message, messageZh: body.messageZh }) : `${xhr.status} ${xhr.statusText}`, body.reason))
    }
    xhr.onerror = () => reject(new ApiError(0, localMessage({ message: 'the server cannot be reached', messageZh: '无法连接服务器' })))
    xhr.send(file)
  })
}

export const fetchImport = (id: string) => getJson<ImportJob>(`/imports/${id}`)
export const startImport = (id: string, what: 'dry-run' | 'commit', mapping: Record<string, string>, crs: Crs) =>
  postJson<ImportJob>(`/imports/${id}/${what}`, { mapping, crs })
/** Forgets an upload on the server: its file is deleted there at once. */
export const discardImport = (id: string) => send<void>('DELETE', `/imports/${id}`)
