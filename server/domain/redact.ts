/** Fields that hold people's names and phones. */
const personalKeys = new Set(['ownerName', 'ownerPhone', 'secondLandlordName', 'secondLandlordPhone', 'name', 'phone', 'idNumber'])

/**
 * A copy for the audit trail: personal values are replaced by whether they were set, so the trail
 * shows that an owner's phone changed without becoming a second copy of it.
 */
export function redactPersonal<T>(value: T): T {
  if (Array.isArray(value)) return value.map(redactPersonal) as T
  if (value === null || typeof value !== 'object' || value instanceof Date) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = personalKeys.has(k) ? (v === null || v === undefined || v === '' ? null : '(set)') : redactPersonal(v)
  }
  return out as T
}
