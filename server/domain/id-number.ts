/**
 * Chinese resident identity numbers (GB 11643-1999): 17 digits and a check character computed
 * with ISO 7064 MOD 11-2.
 */
const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const checkChars = '10X98765432'

/** The check character for the first 17 digits. */
export function residentIdCheckChar(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * weights[i]!
  return checkChars[sum % 11]!
}

/** Why an 18-character resident ID is not valid, or null when it is. */
export function residentIdProblem(id: string): string | null {
  if (!/^\d{17}[\dX]$/.test(id)) return 'a resident ID has 17 digits and a final digit or X'
  const y = Number(id.slice(6, 10))
  const m = Number(id.slice(10, 12))
  const d = Number(id.slice(12, 14))
  const date = new Date(Date.UTC(y, m - 1, d))
  if (y < 1900 || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return 'the birth date inside the ID is not a real date'
  if (residentIdCheckChar(id) !== id[17]) return 'the check digit does not match (the number is mistyped)'
  return null
}

/** Keeps the first 3 and the last 4 characters, masking the rest. */
export function maskIdNumber(id: string): string {
  if (id.length <= 7) return '*'.repeat(id.length)
  return id.slice(0, 3) + '*'.repeat(id.length - 7) + id.slice(-4)
}

/** Upper case without spaces: the form that is encrypted, hashed and compared. */
export function normaliseIdNumber(id: string): string {
  return id.replace(/\s+/g, '').toUpperCase()
}
