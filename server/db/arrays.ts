/**
 * A PostgreSQL array literal for bulk writes with `unnest(${pgArray(xs)}::type[])`: one parameter per
 * column instead of one per value, so a batch of tens of thousands of rows is a single statement.
 */
export function pgArray(values: readonly (string | number | boolean | null | undefined)[]): string {
  let out = '{'
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (i > 0) out += ','
    if (v === null || v === undefined) out += 'NULL'
    else if (typeof v === 'number' || typeof v === 'boolean') out += String(v)
    else out += `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
  }
  return `${out}}`
}
