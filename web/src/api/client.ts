import { i18n } from '../i18n'

/** The server's sentence in the screen's language: its Chinese one on the Chinese screen, where it has one. */
export function localMessage(m: { message?: string; messageZh?: string | null }): string {
  return (i18n.global.locale.value === 'en' ? m.message : m.messageZh ?? m.message) ?? ''
}

/** An API refusal or failure, carrying the server's sentence for the user. */
export class ApiError extends Error {
  constructor(public readonly status: number, message: string, public readonly reason?: string) {
    super(message)
  }
}

type Params = Record<string, string | number | boolean | undefined | null>

let onUnauthorized: ((e: ApiError) => void) | undefined

/** Called when the server says the session is missing, expired or revoked (the session store listens). */
export function setUnauthorizedHandler(handler: (e: ApiError) => void): void {
  onUnauthorized = handler
}

/**
 * Where answers are kept for use without network (src/offline installs it on signed-in pages, so
 * the sign-in page carries none of it): `remember` is given each GET answered, `recall` is asked
 * when a GET cannot reach the server, and answers from the copy or says it has none.
 */
export interface OfflineCopies {
  remember: (path: string, query: string, body: unknown) => void
  recall: (path: string, query: string) => Promise<{ body: unknown } | undefined>
}
let copies: OfflineCopies | undefined

/** Installs the offline copies (see {@link OfflineCopies}). */
export function setOfflineCopies(c: OfflineCopies): void {
  copies = c
}

/** Whether an error says the server could not be reached (no network), not that it refused. */
export const isUnreachable = (e: unknown): boolean => e instanceof ApiError && e.status === 0

function query(params?: Params): string {
  if (!params) return ''
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

async function request<T>(method: string, path: string, params?: Params, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  let res: Response
  // A file (a photo) travels as itself, with its own type; anything else as JSON.
  const file = body instanceof Blob ? body : undefined
  try {
    res = await fetch(`/api${path}${query(params)}`, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? headers : { 'content-type': file ? file.type || 'application/octet-stream' : 'application/json', ...headers },
      body: body === undefined ? undefined : file ?? JSON.stringify(body),
    })
  }
  catch {
    const copy = method === 'GET' ? await copies?.recall(path, query(params)) : undefined
    if (copy) return copy.body as T
    throw new ApiError(0, localMessage({ message: 'the server cannot be reached', messageZh: '无法连接服务器' }))
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`
    let reason: string | undefined
    try {
      const b = await res.json() as { message?: string; messageZh?: string; reason?: string }
      if (b.message) message = localMessage(b)
      reason = b.reason
    }
    catch { /* not JSON: keep the status line */ }
    const error = new ApiError(res.status, message, reason)
    if (res.status === 401 && path !== '/auth/login') onUnauthorized?.(error)
    throw error
  }
  if (res.status === 204) return undefined as T
  const answer = await res.json() as T
  if (method === 'GET') copies?.remember(path, query(params), answer)
  return answer
}

/** GETs JSON from the API; a non-2xx answer becomes an ApiError with the server's message. */
export const getJson = <T>(path: string, params?: Params) => request<T>('GET', path, params)
export const postJson = <T>(path: string, body?: unknown) => request<T>('POST', path, undefined, body ?? {})
export const patchJson = <T>(path: string, body: unknown) => request<T>('PATCH', path, undefined, body)
/** Sends a file (a photo) as the request body, with query parameters. */
export const postFile = <T>(path: string, file: Blob, params?: Params) => request<T>('POST', path, params, file)
/** A write with query parameters and headers (If-Match for versioned records). */
export const send = <T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, opts: { params?: Params; headers?: Record<string, string> } = {}) =>
  request<T>(method, path, opts.params, body, opts.headers)
