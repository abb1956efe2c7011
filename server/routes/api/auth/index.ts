import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { setTimeout as sleep } from 'node:timers/promises'
import { HttpError } from '../../../http-errors.js'
import { dummyHash, verifyPassword } from '../../../domain/passwords.js'
import { permissionsOf, sessionCookie } from '../../../plugins/app/access.js'
import { sessionPolicy } from '../../../plugins/app/users.js'
import { errors } from '../../../schemas/common.js'
import { DemoSchema, LoginSchema, MeSchema } from '../../../schemas/access.js'
import { Type } from 'typebox'

const wrong = 'Wrong user name or password.'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/login', {
    config: { permission: 'public' },
    schema: {
      tags: ['auth'], summary: 'Sign in: sets the session cookie',
      body: LoginSchema, response: { 200: MeSchema, ...errors(400, 401, 429) },
    },
  }, async (req, reply) => {
    const username = req.body.username.trim().toLowerCase()
    const throttle = await app.users.throttle(username)
    if (throttle.lockedUntil && throttle.lockedUntil.getTime() > Date.now()) {
      const minutes = Math.ceil((throttle.lockedUntil.getTime() - Date.now()) / 60_000)
      await app.audit.write(app.db.sql, { userId: null, username, action: 'auth.login', outcome: 'denied', reason: 'locked', ip: req.ip, requestId: req.id })
      reply.header('Retry-After', String(minutes * 60))
      throw new HttpError(429, `Too many failed sign-ins for this user name: try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, 'locked',
        `此用户名登录失败次数过多，请 ${minutes} 分钟后再试。`)
    }
    // Each failure beyond the first few makes the next attempt slower.
    if (throttle.failures >= sessionPolicy.slowAfter) await sleep(Math.min(4000, 500 * (throttle.failures - sessionPolicy.slowAfter + 1)))

    const user = await app.users.byUsername(username)
    const passwordOk = await verifyPassword(req.body.password, user?.passwordHash ?? dummyHash)
    if (!user || !passwordOk) {
      const t = await app.db.sql.begin(async (tx) => {
        const state = await app.users.recordFailure(tx, username)
        await app.audit.write(tx, { userId: user?.id ?? null, username, action: 'auth.login', outcome: 'failed', reason: 'wrong-password', ip: req.ip, requestId: req.id })
        return state
      })
      const locked = t.lockedUntil !== null
      throw new HttpError(401, locked ? `${wrong} Too many failures: this user name is locked for ${sessionPolicy.lockMinutes} minutes.` : wrong, locked ? 'locked' : 'wrong-credentials',
        locked ? `用户名或密码错误。失败次数过多，此用户名锁定 ${sessionPolicy.lockMinutes} 分钟。` : '用户名或密码错误。')
    }
    if (user.disabledAt) {
      await app.audit.write(app.db.sql, { userId: user.id, username, action: 'auth.login', outcome: 'denied', reason: 'disabled', ip: req.ip, requestId: req.id })
      throw new HttpError(401, 'This account is disabled; ask an administrator.', 'account-disabled', '此账号已停用，请联系管理员。')
    }
    const session = await app.db.sql.begin(async (tx) => {
      await app.users.clearFailures(tx, username)
      const s = await app.users.createSession(tx, user.id, req.ip, req.headers['user-agent'])
      await app.audit.write(tx, { userId: user.id, username, action: 'auth.login', entity: 'session', entityId: s.id, ip: req.ip, requestId: req.id })
      return s
    })
    reply.setCookie(sessionCookie, session.token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.protocol === 'https',
      path: '/',
      expires: session.expiresAt,
    })
    const jurisdiction = await app.jurisdictions.describe({ kind: user.jurisdictionKind, id: user.jurisdictionKind === 'town' ? user.jurisdictionTownId : user.jurisdictionStationId })
    return {
      id: user.id, username: user.username, displayName: user.displayName, role: user.role, jurisdiction,
      permissions: permissionsOf(user.role), sessionExpiresInMinutes: sessionPolicy.idleMinutes,
    }
  })

  app.post('/logout', {
    config: { permission: 'session' },
    schema: { tags: ['auth'], summary: 'Sign out: ends the session', response: { 204: Type.Null(), ...errors(401) } },
  }, async (req, reply) => {
    const user = app.userOf(req)
    await app.db.sql.begin(async (tx) => {
      await app.users.revokeSession(tx, user.sessionId)
      await app.audit.write(tx, { userId: user.id, username: user.username, action: 'auth.logout', entity: 'session', entityId: user.sessionId, ip: req.ip, requestId: req.id })
    })
    reply.clearCookie(sessionCookie, { path: '/' })
    return reply.status(204).send(null)
  })

  app.get('/me', {
    config: { permission: 'session' },
    schema: { tags: ['auth'], summary: 'The signed-in user, role, permissions and jurisdiction', response: { 200: MeSchema, ...errors(401) } },
  }, async (req) => {
    const user = app.userOf(req)
    return {
      id: user.id, username: user.username, displayName: user.displayName, role: user.role,
      jurisdiction: await app.jurisdictions.describe(user.jurisdiction),
      permissions: permissionsOf(user.role), sessionExpiresInMinutes: sessionPolicy.idleMinutes,
    }
  })

  app.get('/demo', {
    config: { permission: 'public' },
    schema: { tags: ['auth'], summary: 'Demo accounts, listed only in demo mode', response: { 200: DemoSchema } },
  }, async () => {
    const demo = (await app.users.setting<boolean>('demo_mode')) === true
    if (!demo) return { demo: false, password: null, users: [] }
    const users = await app.db.sql<{ username: string; role: 'leader'; displayName: string }[]>`
      select username, role, display_name from app_user where is_demo and disabled_at is null
      order by array_position(array['leader', 'commander', 'analyst', 'inspector', 'admin'], role), id`
    return { demo: true, password: 'demo1234', users: [...users] }
  })
}
export default routes
