import type { Static } from 'typebox'
import type { CrsSchema, ImportJob } from '../../../server/schemas/imports'
import { ApiError, getJson, localMessage, postJson, send } from './client'

export type { ImportJob }
export type LedgerKind = ImportJob['kind']
export type Crs = Static<typeof CrsSchema>

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
