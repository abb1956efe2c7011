/**
 * Creates a user from the command line — the first administrator of a real deployment:
 *   npm run user:add -- --username chen --display-name "陈工" --role admin
 * The password is read from standard input (or USER_PASSWORD), never from the command line.
 * --jurisdiction district | town:<id> | police_station:<id> (default district).
 */
import { createInterface } from 'node:readline/promises'
import { parseArgs } from 'node:util'
import { loadConfig } from '../server/lib/config.js'
import { prepareConfiguredDatabase } from '../server/db/configured.js'
import { type Jurisdiction, type Role, roles } from '../server/domain/access.js'
import { hashPassword, passwordProblem } from '../server/domain/passwords.js'
import { auditRepository } from '../server/plugins/app/audit.js'
import { jurisdictionsRepository } from '../server/plugins/app/jurisdictions.js'
import { usersRepository } from '../server/plugins/app/users.js'

const { values } = parseArgs({
  options: {
    'username': { type: 'string' },
    'display-name': { type: 'string' },
    'role': { type: 'string', default: 'admin' },
    'jurisdiction': { type: 'string', default: 'district' },
  },
})

function fail(message: string): never {
  console.error(message)
  process.exit(2)
}

const username = values.username?.trim().toLowerCase()
if (!username || !/^[a-z0-9_.-]{2,40}$/.test(username)) fail('--username is required: 2–40 letters, digits, dot, dash or underscore')
const role = values.role as Role
if (!roles.includes(role)) fail(`--role must be one of ${roles.join(', ')}`)
const [kind, idText] = values.jurisdiction!.split(':')
if (kind !== 'district' && kind !== 'town' && kind !== 'police_station') fail('--jurisdiction must be district, town:<id> or police_station:<id>')

let password = process.env.USER_PASSWORD
if (!password) {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false })
  process.stderr.write(`Password for ${username}: `)
  password = (await rl[Symbol.asyncIterator]().next()).value as string | undefined
  rl.close()
}
password = password?.replace(/\r?\n$/, '') ?? ''
const problem = passwordProblem(password, username)
if (problem) fail(problem.en)

const configured = await prepareConfiguredDatabase(loadConfig())
await configured.closeOwner()
const db = configured.db
try {
  const users = usersRepository(db.sql)
  if (await users.byUsername(username)) fail(`the user name "${username}" is taken`)
  const passwordHash = await hashPassword(password)
  const user = await db.sql.begin(async (tx) => {
    const jurisdiction: Jurisdiction = await jurisdictionsRepository(db.sql).validate({ kind, id: idText ? Number(idText) : null }, tx)
    const u = await users.create(tx, { username, displayName: values['display-name'] ?? username, role, jurisdiction, passwordHash, createdBy: null })
    await auditRepository(db.sql).write(tx, { userId: null, username: 'cli', action: 'user.create', entity: 'user', entityId: u.id, after: { ...u, jurisdiction } })
    return u
  })
  console.log(`Created ${user.role} "${user.username}" (id ${user.id}).`)
}
catch (e) {
  fail((e as Error).message)
}
finally {
  await configured.close()
}
