import type { Tx } from './index.js'

/**
 * Turns the triggers that keep derived data (hazard summaries, tile cells, daily changes, the data
 * version, the hazard history) off or back on for the rest of the transaction `tx`; their condition
 * is in server/db/functions/. A transaction-local setting, not ALTER TABLE: the app's database role
 * owns no table. The caller rebuilds what those triggers keep, set-wise, before it commits. The
 * triggers that protect data (the audit trail, submitted tables) and the rules (areas, hazard items)
 * do not follow it.
 *
 * Turning it on also locks premises, residents and hazards against other writers until the
 * transaction ends (readers go on), as ALTER TABLE did: a writer's own triggers, running meanwhile,
 * would add to the change tables that the rebuild deletes and writes again. The app's role may take
 * this lock because it may UPDATE and DELETE those tables.
 */
export async function setBulkLoad(tx: Tx, on: boolean): Promise<void> {
  if (on) await tx`lock table premises, resident, hazard in share row exclusive mode`
  await tx`select set_config('app.bulk_load', ${on ? 'on' : 'off'}, true)`
}
