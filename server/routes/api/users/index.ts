import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { hashPassword, passwordProblem } from '../../../domain/passwords.js'
import { badRequest, conflict, notFound } from '../../../lib/http-errors.js'
import { jurisdictionOf, type UserRow } from '../../../plugins/app/users.js'
import { errors } from '../../../schemas/common.js'
import { IdParams, NewUserSchema, PasswordResetSchema, UserChangeSchema, UserSchema } from '../../../schemas/access.js'
import { Type } from 'typebox'

/** User administration: create, change role and jurisdiction, disable, reset passwords. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const dto = async (u: UserRow) => ({
    id: u.id, username: u.username, displayName: u.displayName, role: u.role,
    jurisdiction: await app.jurisdictions.describe(jurisdictionOf(u)),
    isDemo: u.isDemo, disabled: u.disabledAt !== null,
    createdAt: u.createdAt.toISOString(), passwordChangedAt: u.passwordChangedAt.toISOString(),
  })
  // The audit trail keeps accounts without their password hashes.
  const plain = (u: UserRow) => ({ ...u, jurisdiction: jurisdictionOf(u) })

  app.get('/', {
    config: { permission: 'users:admin' },
    schema: { tags: ['users'], summary: 'All user accounts', response: { 200: Type.Array(UserSchema), ...errors(401, 403) } },
  }, async () => Promise.all((await app.users.list()).map(dto)))

  app.post('/', {
    config: { permission: 'users:admin' },
    schema: { tags: ['users'], summary: 'Create a user', body: NewUserSchema, response: { 201: UserSchema, ...errors(400, 401, 403, 409) } },
  }, async (req, reply) => {
    const admin = app.userOf(req)
    const problem = passwordProblem(req.body.password, req.body.username)
    if (problem) throw badRequest(problem.en, problem.zh)
    if (await app.users.byUsername(req.body.username)) throw conflict(`the user name "${req.body.username.toLowerCase()}" is taken`, `用户名“${req.body.username.toLowerCase()}”已被使用`)
    const passwordHash = await hashPassword(req.body.password)
    const user = await app.writeTx(req, async (tx) => {
      const jurisdiction = await app.jurisdictions.validate(req.body.jurisdiction, tx)
      const u = await app.users.create(tx, { ...req.body, jurisdiction, passwordHash, createdBy: admin.id })
      await app.audit.record(tx, req, { action: 'user.create', entity: 'user', entityId: u.id, after: plain(u) })
      return u
    })
    return reply.status(201).send(await dto(user))
  })

  app.patch('/:id', {
    config: { permission: 'users:admin' },
    schema: {
      tags: ['users'], summary: 'Change display name, role, jurisdiction or disable/enable a user',
      params: IdParams, body: UserChangeSchema, response: { 200: UserSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const admin = app.userOf(req)
    const { id } = req.params
    if (id === admin.id && (req.body.disabled === true || (req.body.role && req.body.role !== 'admin'))) {
      throw conflict('you cannot disable your own account or take away your own administrator role', '不能停用自己的账号，也不能取消自己的管理员角色')
    }
    const user = await app.writeTx(req, async (tx) => {
      const before = await app.users.byId(id, tx)
      if (!before) throw notFound(`there is no user with id ${id}`, `没有编号为 ${id} 的用户`)
      const jurisdiction = req.body.jurisdiction ? await app.jurisdictions.validate(req.body.jurisdiction, tx) : undefined
      const after = (await app.users.update(tx, id, { ...req.body, jurisdiction }))!
      // A changed role, jurisdiction or a disabled account takes effect now, not at the next sign-in.
      if (req.body.role || req.body.jurisdiction || req.body.disabled) await app.users.revokeAllSessions(tx, id)
      await app.audit.record(tx, req, { action: 'user.update', entity: 'user', entityId: id, before: plain(before), after: plain(after) })
      return after
    })
    return dto(user)
  })

  app.post('/:id/password', {
    config: { permission: 'users:admin' },
    schema: {
      tags: ['users'], summary: 'Set a new password (ends the user\'s sessions)',
      params: IdParams, body: PasswordResetSchema, response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
    },
  }, async (req, reply) => {
    const { id } = req.params
    const target = await app.users.byId(id)
    if (!target) throw notFound(`there is no user with id ${id}`, `没有编号为 ${id} 的用户`)
    const problem = passwordProblem(req.body.password, target.username)
    if (problem) throw badRequest(problem.en, problem.zh)
    const passwordHash = await hashPassword(req.body.password)
    await app.writeTx(req, async (tx) => {
      await app.users.setPassword(tx, id, passwordHash)
      const ended = await app.users.revokeAllSessions(tx, id)
      await app.users.clearFailures(tx, target.username)
      await app.audit.record(tx, req, { action: 'user.password-reset', entity: 'user', entityId: id, after: { sessionsEnded: ended } })
    })
    return reply.status(204).send(null)
  })

  app.post('/:id/revoke-sessions', {
    config: { permission: 'users:admin' },
    schema: {
      tags: ['users'], summary: 'End every session of a user',
      params: IdParams, response: { 200: Type.Object({ ended: Type.Integer() }), ...errors(401, 403, 404) },
    },
  }, async (req) => {
    const { id } = req.params
    return app.writeTx(req, async (tx) => {
      if (!await app.users.byId(id, tx)) throw notFound(`there is no user with id ${id}`, `没有编号为 ${id} 的用户`)
      const ended = await app.users.revokeAllSessions(tx, id)
      await app.audit.record(tx, req, { action: 'user.revoke-sessions', entity: 'user', entityId: id, after: { ended } })
      return { ended }
    })
  })
}
export default routes
