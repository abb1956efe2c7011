import { maskIdNumber } from './id-number.js'

/**
 * Personal data that leaves the server for someone who may not see people: named fields (owners,
 * landlords, residents) and ID or phone numbers typed into free text (a hazard note, an address, a
 * key area's name). Whatever is masked is masked by the one rule of `maskIdNumber` (first 3 and
 * last 4 characters kept), so a number looks the same in every answer, export and audit row.
 */

/** Fields that hold people's names and phones. */
// A resident's special category and the reason given for it are as sensitive as a name: the
// trail records that a flag was set or cleared, never which or why.
const personalKeys = new Set(['ownerName', 'ownerPhone', 'secondLandlordName', 'secondLandlordPhone', 'name', 'phone', 'idNumber', 'specialCategory', 'flagReason'])

// Half- and full-width digits: a Chinese input method types either.
const d = '[0-9\uFF10-\uFF19]'
// Between groups of digits people type a space, an ideographic space or a (full-width) dash.
const sep = '[ \\t\\u3000\\-\\uFF0D]?'
const numberPatterns = [
  // Resident ID (GB 11643): 17 digits and a check digit or X, often typed as 6-8-4.
  `${d}{6}${sep}${d}{8}${sep}${d}{3}[0-9\\uFF10-\\uFF19Xx\\uFF38\\uFF58]`,
  // The 15-digit ID issued before 1999.
  `${d}{15}`,
  // A mainland mobile, 1[3-9] and 9 more digits, with or without +86 / 0086 / 86 and groups.
  `(?:(?:[+\\uFF0B]|00)?86${sep})?[1\\uFF11][3-9\\uFF13-\\uFF19]${d}${sep}${d}{4}${sep}${d}{4}`,
  // A landline with its area code: 0519-8612 3456, (0519)86123456.
  `[(\\uFF08]?0${d}{2,3}[)\\uFF09]?${sep}${d}{3,4}${sep}${d}{4}`,
]
// A number inside a longer run of digits is not one of these (an account number, a reference).
// eslint-disable-next-line regexp/no-obscure-range -- full-width digits (０-９), as typed in Chinese text, are meant
const numberInText = new RegExp(`(?<!${d})(?:${numberPatterns.join('|')})(?!${d})`, 'g')
const countryCode = /^(?:[+\uFF0B]|00)?86(?=[ \t\u3000\-\uFF0D]?[1\uFF11])/
const notDigitOrX = /[^0-9\uFF10-\uFF19Xx\uFF38\uFF58]/g
// A checksum or token (a file's SHA-256), or a UUID (a client's id for an upload or an edit), is
// not text anybody typed: its digit runs are chance.
const hexToken = /^[0-9a-f]{32,}$/i
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The text with every resident ID number (18 or 15 digits) and phone number (mainland mobile, or a
 * landline with its area code) masked; everything else is left as typed.
 */
export function maskPersonalText(text: string): string {
  if (hexToken.test(text) || uuid.test(text)) return text
  return text.replace(numberInText, (found) => {
    const bare = found.replace(countryCode, '').replace(notDigitOrX, '')
    return maskIdNumber(bare)
  })
}

/** A copy in which every string is passed through `maskPersonalText` (objects and arrays deeply). */
export function maskFreeText<T>(value: T): T {
  if (typeof value === 'string') return maskPersonalText(value) as T
  if (Array.isArray(value)) return value.map(maskFreeText) as T
  if (value === null || typeof value !== 'object' || value instanceof Date) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = maskFreeText(v)
  return out as T
}

/**
 * A copy for the audit trail: personal fields are replaced by whether they were set, so the trail
 * shows that an owner's phone changed without becoming a second copy of it, and ID and phone
 * numbers typed into any other text are masked (the trail is read by administrators, who do not
 * see people).
 */
export function redactPersonal<T>(value: T): T {
  if (typeof value === 'string') return maskPersonalText(value) as T
  if (Array.isArray(value)) return value.map(redactPersonal) as T
  if (value === null || typeof value !== 'object' || value instanceof Date) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = personalKeys.has(k) ? (v === null || v === undefined || v === '' ? null : '(set)') : redactPersonal(v)
  }
  return out as T
}
