import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HttpError } from '../../../lib/http-errors.js'
import { permissionsOf, sessionCookie } from '../../../plugins/app/access.js'
import { type SessionUser, sessionPolicy, sessionUserOf } from '../../../plugins/app/users.js'
import { errors } from '../../../schemas/common.js'
import { DemoSchema, LoginSchema, type Me, MeSchema, SessionStateSchema } from '../../../schemas/access.js'
import { Type } from 'typebox'

const wrong = 'Wrong user name or password.'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const me = async (user: Omit<SessionUser, 'sessionId'>): Promise<Me> => ({
    id: user.id, username: user.username, displayName: user.displayName, role: user.role,
    jurisdiction: await app.jurisdictions.describe(user.jurisdiction),
    permissions: permissionsOf(user.role), sessionExpiresInMinutes: sessionPolicy.idleMinutes,
  })

  app.post('/login', {
    config: { permission: 'public' },
    schema: {
      tags: ['auth'], summary: 'Sign in: sets the session cookie',
      body: LoginSchema, response: { 200: MeSchema, ...errors(400, 401, 429) },
    },
  }, async (req, reply) => {
    const username = req.body.username.trim().toLowerCase()
    const outcome = await app.credentials.check(username, req.body.password, { action: 'auth.login', ip: req.ip, requestId: req.id })
    if (!outcome.ok) {
      if (outcome.reason === 'locked') {
        const minutes = Math.round(outcome.retryAfterSeconds / 60)
        reply.header('Retry-After', String(outcome.retryAfterSeconds))
        throw new HttpError(429, `Too many failed sign-ins for this user name: try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, 'locked',
          `此用户名登录失败次数过多，请 ${minutes} 分钟后再试。`)
      }
      if (outcome.reason === 'account-disabled') throw new HttpError(401, 'This account is disabled; ask an administrator.', 'account-disabled', '此账号已停用，请联系管理员。')
      const locked = outcome.lockedNow
      throw new HttpError(401, locked ? `${wrong} Too many failures: this user name is locked for ${sessionPolicy.lockMinutes} minutes.` : wrong, locked ? 'locked' : 'wrong-credentials',
        locked ? `用户名或密码错误。失败次数过多，此用户名锁定 ${sessionPolicy.lockMinutes} 分钟。` : '用户名或密码错误。')
    }
    const { user } = outcome
    const session = await app.writeTx(req, async (tx) => {
      const s = await app.users.createSession(tx, user.id, req.ip, req.headers['user-agent'])
      // A session cookie sent with the sign-in may name someone else: the row names the account signed in to.
      await app.audit.record(tx, req, { userId: user.id, username, action: 'auth.login', entity: 'session', entityId: s.id })
      return s
    })
    reply.setCookie(sessionCookie, session.token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.protocol === 'https',
      path: '/',
      expires: session.expiresAt,
    })
    return me(sessionUserOf(user))
  })

  app.post('/logout', {
    config: { permission: 'session' },
    schema: { tags: ['auth'], summary: 'Sign out: ends the session', response: { 204: Type.Null(), ...errors(401) } },
  }, async (req, reply) => {
    const user = app.userOf(req)
    await app.writeTx(req, async (tx) => {
      await app.users.revokeSession(tx, user.sessionId)
      await app.audit.record(tx, req, { action: 'auth.logout', entity: 'session', entityId: user.sessionId })
    })
    reply.clearCookie(sessionCookie, { path: '/' })
    return reply.status(204).send(null)
  })

  app.get('/me', {
    config: { permission: 'session' },
    schema: { tags: ['auth'], summary: 'The signed-in user, role, permissions and jurisdiction', response: { 200: MeSchema, ...errors(401) } },
  }, async req => me(app.userOf(req)))

  // The sign-in page asks this first: signed out is an answer here, not a refusal (no 401 in the
  // browser's console, no "denied" row in the audit trail for everyone who opens the page).
  app.get('/session', {
    config: { permission: 'public' },
    schema: {
      tags: ['auth'], summary: 'Who is signed in, if anyone, and why a session cookie sent no longer signs in',
      response: { 200: SessionStateSchema },
    },
  }, async (req, reply) => {
    if (req.user) return { user: await me(req.user), ended: null }
    if (req.sessionEnded) reply.clearCookie(sessionCookie, { path: '/' })
    return { user: null, ended: req.sessionEnded }
  })

  app.get('/demo', {
    config: { permission: 'public' },
    schema: { tags: ['auth'], summary: 'Demo accounts, listed only in demo mode', response: { 200: DemoSchema } },
  }, async () => {
    const demo = (await app.users.setting<boolean>('demo_mode')) === true
    if (!demo) return { demo: false, password: null, users: [] }
    return { demo: true, password: 'demo1234', users: await app.users.demoAccounts() }
  })
}
export default routes
