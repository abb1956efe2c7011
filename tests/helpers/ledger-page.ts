import type { Page } from 'playwright-core'
import { residentIdCheckChar } from '../../server/domain/id-number.js'

/** A CSV file as a district's ledger arrives: UTF-8 with a byte-order mark, CRLF lines. */
export const ledgerCsv = (rows: string[][]) => Buffer.from(`\uFEFF${rows.map(r => r.join(',')).join('\r\n')}\r\n`)

/** A valid resident ID number, different for each `seq`. */
export function residentId(seq: number): string {
  const first17 = `3204111990020${String(100 + seq).slice(-3)}1`.slice(0, 17)
  return first17 + residentIdCheckChar(first17)
}

/** Imports a ledger through the imports page: choose the kind, upload, dry run, commit. */
export async function importLedger(page: Page, kind: string, file: Buffer) {
  await page.click(`[data-testid="import-kind"] label:has-text("${kind}")`)
  await page.setInputFiles('[data-testid="import-file"]', { name: 'ledger.csv', mimeType: 'text/csv', buffer: file })
  await page.waitForSelector('[data-testid="import-mapping"]')
  await page.click('[data-testid="import-dry-run"]')
  await page.waitForSelector('[data-testid="import-summary"] .el-alert--info')
  await page.click('[data-testid="import-commit"]')
  await page.waitForSelector('[data-testid="import-summary"] .el-alert--success')
}

/** Clicks the corners of a polygon around the map's centre and closes it on the first corner. */
export async function drawPolygon(page: Page, corners: [number, number][]) {
  const box = (await page.locator('.map-area').boundingBox())!
  const cx = box.x + box.width / 2
  const cy = box.y + box.height / 2
  for (const [dx, dy] of corners) {
    await page.mouse.click(cx + dx, cy + dy)
    await page.waitForTimeout(120)
  }
  await page.mouse.click(cx + corners[0]![0], cy + corners[0]![1])
}
