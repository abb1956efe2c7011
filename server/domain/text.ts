/**
 * Text that cannot be stored as it was sent. PostgreSQL refuses a NUL character in text and JSON,
 * and a lone UTF-16 surrogate (half of a pair) is turned into a replacement character on its way
 * to the database: in both cases the value saved would not be the value sent.
 */

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Why a text cannot be stored as it is, or null when it can. */
export function textProblem(s: string): 'nul' | 'surrogate' | null {
  if (s.includes('\u0000')) return 'nul'
  if (loneSurrogate.test(s)) return 'surrogate'
  return null
}
