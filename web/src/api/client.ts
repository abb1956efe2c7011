/** An API refusal or failure, carrying the server's sentence for the user. */
export class ApiError extends Error {
  constructor(public readonly status: number, message: string) {
    super(message)
  }
}

type Params = Record<string, string | number | boolean | undefined | null>

function query(params?: Params): string {
  if (!params) return ''
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

/** GETs JSON from the API; a non-2xx answer becomes an ApiError with the server's message. */
export async function getJson<T>(path: string, params?: Params, init?: RequestInit): Promise<T> {
  let res: Response
  try {
    res = await fetch(`/api${path}${query(params)}`, { credentials: 'same-origin', ...init })
  }
  catch {
    throw new ApiError(0, 'the server cannot be reached')
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`
    try {
      const body = await res.json() as { message?: string }
      if (body.message) message = body.message
    }
    catch { /* not JSON: keep the status line */ }
    throw new ApiError(res.status, message)
  }
  return res.json() as Promise<T>
}
