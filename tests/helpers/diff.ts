/**
 * A short, readable line diff of two texts, for a test that compares a generated file with the
 * committed one: the differing lines with `context` lines around them, '-' for the committed
 * (expected) text and '+' for the generated (actual) one, each hunk headed by its line numbers, at
 * most `maxLines` lines in all. Empty when the texts are equal.
 */
export function lineDiff(expected: string, actual: string, { context = 2, maxLines = 40 } = {}): string {
  if (expected === actual) return ''
  const a = expected.split('\n')
  const b = actual.split('\n')
  let start = 0
  while (start < a.length && start < b.length && a[start] === b[start]) start++
  let end = 0
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++
  const x = a.slice(start, a.length - end)
  const y = b.slice(start, b.length - end)

  // Longest common subsequence of the differing middle; past a few million cells, one block replaced by the other.
  type Op = { sign: ' ' | '-' | '+'; text: string; lineA: number; lineB: number }
  const ops: Op[] = []
  if (x.length * y.length <= 4_000_000) {
    const w = y.length + 1
    const lcs = new Uint32Array((x.length + 1) * w)
    for (let i = x.length - 1; i >= 0; i--) {
      for (let j = y.length - 1; j >= 0; j--) lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!)
    }
    let i = 0
    let j = 0
    while (i < x.length || j < y.length) {
      if (i < x.length && j < y.length && x[i] === y[j]) { ops.push({ sign: ' ', text: x[i]!, lineA: i, lineB: j }); i++; j++ }
      else if (i < x.length && (j === y.length || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) { ops.push({ sign: '-', text: x[i]!, lineA: i, lineB: j }); i++ }
      else { ops.push({ sign: '+', text: y[j]!, lineA: i, lineB: j }); j++ }
    }
  }
  else {
    x.forEach((text, i) => ops.push({ sign: '-', text, lineA: i, lineB: 0 }))
    y.forEach((text, j) => ops.push({ sign: '+', text, lineA: x.length, lineB: j }))
  }
  // The unchanged lines around the middle, for context at its two ends.
  const before = a.slice(Math.max(0, start - context), start).map((text, k, all) => ({ sign: ' ' as const, text, lineA: k - all.length, lineB: k - all.length }))
  const after = a.slice(a.length - end, a.length - end + context).map((text, k) => ({ sign: ' ' as const, text, lineA: x.length + k, lineB: y.length + k }))
  const all = [...before, ...ops, ...after]

  const shown = new Set<number>()
  all.forEach((op, k) => {
    if (op.sign === ' ') return
    for (let c = Math.max(0, k - context); c <= Math.min(all.length - 1, k + context); c++) shown.add(c)
  })
  const out: string[] = []
  let last = -2
  for (const k of [...shown].sort((p, q) => p - q)) {
    const op = all[k]!
    if (k !== last + 1) out.push(`@@ line ${start + op.lineA + 1} of the committed file, ${start + op.lineB + 1} of the generated one @@`)
    out.push(`${op.sign} ${op.text}`)
    last = k
  }
  const changed = all.filter(op => op.sign !== ' ').length
  return out.length > maxLines
    ? [...out.slice(0, maxLines), `… ${changed} lines differ in all`].join('\n')
    : out.join('\n')
}
