import { normaliseIdNumber } from './id-number.js'

/**
 * What a text typed into the search box asks for. Addresses, ledger refs and the names of areas
 * are matched on every term (the text split at blanks: `汉江路 12号` finds 汉江路12号); people's names
 * and phones from their beginning; a document number exactly (by its HMAC, never in a URL).
 */
export interface SearchText {
  /** The terms, each to be found somewhere in an address, a ledger ref or an area's name. */
  terms: string[]
  /** The text without blanks, when it could be a name (no digits, two characters or more). */
  name: string | null
  /** The digits of a phone number, when the text is one (four digits or more, nothing else but separators). */
  phoneDigits: string | null
  /** The text as a document number (upper case, no blanks), when it could be one. */
  idNumber: string | null
}

/** The fewest characters a search looks for: one character matches too much to be of use. */
export const searchMinChars = 2
/** Terms beyond these are ignored: a sentence is not a search. */
export const searchMaxTerms = 6

const hasDigit = /[0-9\uFF10-\uFF19]/
// What people type between the groups of a phone number.
const phoneSeparators = /[\s\-()\uFF08\uFF09+\uFF0B]/g

const residentId = (s: string) => /^\d{17}[\dX]$/.test(s) || /^\d{15}$/.test(s)

/**
 * Whether the text is a Chinese resident ID number (18 characters, the last a digit or X, or the
 * old 15 digits), as typed with or without blanks.
 */
export function looksLikeResidentId(text: string): boolean {
  return residentId(normaliseIdNumber(text.normalize('NFKC')))
}

/**
 * Whether a resident ID number is anywhere in the text: the whole of it, a word of it, or a run of
 * digits typed in groups (320411 19900101 1234). Such a number must never travel in a web address,
 * where logs and browser histories keep it.
 */
export function holdsResidentId(text: string): boolean {
  const t = text.normalize('NFKC')
  const candidates = [t, ...t.split(/\s+/), ...(t.match(/[\dXx][\dXx \t\-]*/g) ?? [])]
  return candidates.some(c => residentId(normaliseIdNumber(c.replace(/-/g, ''))))
}

/** Reads a search text; full-width digits and letters (a Chinese input method's) are read as half-width. */
export function parseSearchText(raw: string): SearchText {
  const text = raw.normalize('NFKC').trim()
  const terms = text.split(/\s+/).filter(Boolean).slice(0, searchMaxTerms)
  const compact = terms.join('')
  const digitsOnly = compact.replace(phoneSeparators, '')
  const isResidentId = looksLikeResidentId(compact)
  return {
    terms,
    name: !hasDigit.test(compact) && compact.length >= searchMinChars ? compact : null,
    phoneDigits: !isResidentId && /^\d{4,20}$/.test(digitsOnly) ? digitsOnly : null,
    idNumber: /^[0-9A-Z]{6,40}$/.test(normaliseIdNumber(compact)) && hasDigit.test(compact) ? normaliseIdNumber(compact) : null,
  }
}

/** Whether any term is long enough to look up (the index holds two-character pieces). */
export function searchable(s: SearchText): boolean {
  return s.terms.some(t => [...t].length >= searchMinChars) || s.phoneDigits !== null
}

/** A LIKE pattern that finds the term anywhere: its own % _ and \ are taken literally. */
export function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, c => `\\${c}`)}%`
}

/**
 * The bounds of the texts that begin with `prefix` in code-point order (the "C" collation):
 * [prefix, prefix + U+10FFFF). No character sorts after U+10FFFF, the last code point.
 */
export function prefixRange(prefix: string): [string, string] {
  return [prefix, `${prefix}\u{10FFFF}`]
}
