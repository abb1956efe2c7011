import { loadConfig } from '../../server/lib/config.js'
import { prepareConfiguredDatabase } from '../../server/db/configured.js'

/** Prepares the database as `npm start` does, collecting what it tells the operator. */
export async function prepareAsLauncher(env: Record<string, string>, createRoles = false) {
  const said: string[] = []
  const configured = await prepareConfiguredDatabase(loadConfig(env), { createRoles, log: m => said.push(m) })
  const [me] = await configured.db.sql<{ currentUser: string }[]>`select current_user`
  return { configured, said: said.join('\n'), user: me!.currentUser }
}
