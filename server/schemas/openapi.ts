import { fileURLToPath } from 'node:url'

/**
 * The OpenAPI document as it is committed: `server/schemas/openapi.json`, written by
 * `npm run openapi` (scripts/openapi.ts) and compared with what the routes generate by
 * tests/server/health.test.ts. Keys are sorted at every level, so the file changes only when the API
 * does, not when routes are registered in another order; two-space indents, one final newline.
 */
export const openApiFile = fileURLToPath(new URL('./openapi.json', import.meta.url))

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.keys(value).sort().map(k => [k, sorted((value as Record<string, unknown>)[k])]))
}

/** The document as the committed file's text. */
export function openApiText(document: unknown): string {
  return `${JSON.stringify(sorted(document), null, 2)}\n`
}
