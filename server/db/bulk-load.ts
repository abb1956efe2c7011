import type { Tx } from './index.js'

/**
 * Turns the row triggers of premises, residents and hazards off (or back on) until the end of the
 * transaction `tx`, for a writer that keeps what they derive (hazard summaries and history, tile
 * cells, daily changes, the data version) itself, set-wise. The one place that switches them: a
 * bulk writer calls this and nothing else.
 *
 * Call it first in the transaction: the switch takes the strongest lock the transaction will need
 * before any weaker one, so a concurrent writer cannot hold what it waits for.
 */
export async function setBulkLoad(tx: Tx, on: boolean): Promise<void> {
  for (const t of ['premises', 'resident', 'hazard']) await tx`alter table ${tx(t)} ${on ? tx`disable` : tx`enable`} trigger user`
}
