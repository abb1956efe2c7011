import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify'
import fp from 'fastify-plugin'
import { verifyPassword } from '../../domain/passwords.js'
import type { Tx } from '../../db/index.js'
import { can, grants, type Permission } from '../../domain/access.js'
import { textProblem } from '../../domain/text.js'
import { HttpError } from '../../http-errors.js'
import { jurisdictionOf, type SessionUser } from './users.js'

export const sessionCookie = 'grd_session'

export interface RouteInfo {
  method: string
  url: string
  /** Read when asked: plugins may still set it after this hook has seen the route. */
  readonly permission: Permission | undefined
  /** The route's request and response schemas (the input fuzz tests are built from them). */
  readonly schema: FastifySchema | undefined
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The one permission a route needs. Routes without one are refused to everybody. */
    permission?: Permission
  }
  interface FastifyRequest {
    user: SessionUser | null
  }
  interface FastifyInstance {
    /** Every route with the permission it declares (the access tests are built from it). */
    routeTable: RouteInfo[]
    /** Runs a write in one transaction that knows who acts (for triggers and the audit trail). */
    writeTx: <T>(req: FastifyRequest, fn: (tx: Tx) => Promise<T>) => Promise<T>
    /** The signed-in user of a route that declared a non-public permission. */
    userOf: (req: FastifyRequest) => SessionUser
  }
}

export class AccessError extends HttpError {}

const roleZh: Record<string, string> = { leader: '领导小组', commander: '片区指挥长', analyst: '研判分析员', inspector: '排查员', admin: '系统管理员' }

/**
 * Deny by default: every request is checked against its route's declared permission before any
 * handler runs. No session: 401. Expired or revoked session: 401 saying so. A role without the
 * permission: 403. Every refusal is written to the audit trail.
 */
export default fp(async (app) => {
  app.decorate('routeTable', [] as RouteInfo[])
  app.decorateRequest('user', null)

  app.addHook('onRoute', (route) => {
    // The OpenAPI pages are for signed-in users like the rest of /api.
    if (route.url.startsWith('/api/docs')) route.config = { ...route.config, permission: route.config?.permission ?? 'session' }
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) {
      app.routeTable.push({ method, url: route.url, get permission() { return route.config?.permission }, get schema() { return route.schema } })
    }
  })

  async function deny(req: FastifyRequest, status: number, message: string, code: string, zh?: string): Promise<never> {
    await app.audit.write(app.db.sql, {
      userId: req.user?.id ?? null, username: req.user?.username ?? null, action: 'request.denied',
      entity: 'route', entityId: `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`,
      reason: code, ip: req.ip, outcome: 'denied', requestId: req.id,
    })
    throw new AccessError(status, message, code, zh)
  }

  /**
   * HTTP Basic credentials, for GIS clients of the OGC API that cannot sign in through a form.
   * A verified pair is remembered for five minutes so that a client's many requests do not each
   * pay for the password hash; wrong passwords count toward the same lock as the sign-in page.
   */
  const basicCache = new Map<string, { user: SessionUser; until: number }>()
  async function basicUser(header: string): Promise<SessionUser | 'locked' | null> {
    const key = createHash('sha256').update(header).digest('base64')
    const hit = basicCache.get(key)
    if (hit && hit.until > Date.now()) return hit.user
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    // A NUL or a lone surrogate names no user; it must not reach the sign-in throttle's table.
    if (colon < 1 || textProblem(decoded)) return null
    const username = decoded.slice(0, colon).toLowerCase()
    const password = decoded.slice(colon + 1)
    const throttle = await app.users.throttle(username)
    if (throttle.lockedUntil && throttle.lockedUntil.getTime() > Date.now()) return 'locked'
    const u = await app.users.byUsername(username)
    if (!u || u.disabledAt || !(await verifyPassword(password, u.passwordHash))) {
      await app.users.recordFailure(app.db.sql, username)
      return null
    }
    const user: SessionUser = { id: u.id, username: u.username, displayName: u.displayName, role: u.role, jurisdiction: jurisdictionOf(u), sessionId: 0 }
    if (basicCache.size > 1000) basicCache.clear()
    basicCache.set(key, { user, until: Date.now() + 5 * 60_000 })
    return user
  }
  const ogc = (req: FastifyRequest) => req.url === '/ogc' || req.url.startsWith('/ogc/') || req.url.startsWith('/ogc?')

  app.addHook('onRequest', async (req, reply: FastifyReply) => {
    if (req.is404) return
    const permission = req.routeOptions.config?.permission
    if (!permission) return deny(req, 403, 'This route declares no permission, so nobody may use it.', 'no-permission-declared', '此接口未声明权限，任何人都不能使用。')
    const token = req.cookies[sessionCookie]
    if (token) {
      const s = await app.users.session(token)
      if (s.state === 'ok') req.user = s.user
      else if (permission !== 'public') {
        reply.clearCookie(sessionCookie, { path: '/' })
        if (s.state === 'expired') return deny(req, 401, 'Your session has expired; please sign in again.', 'session-expired', '登录已过期，请重新登录。')
        if (s.state === 'revoked') return deny(req, 401, 'Your session was ended (signed out elsewhere or by an administrator); please sign in again.', 'session-revoked', '登录已被结束（在别处退出或被管理员结束），请重新登录。')
        if (s.state === 'disabled') return deny(req, 401, 'This account is disabled; ask an administrator.', 'account-disabled', '此账号已停用，请联系管理员。')
      }
    }
    if (permission === 'public') return
    if (!req.user && ogc(req)) {
      // GIS clients ask for credentials when told which kind the server takes.
      reply.header('WWW-Authenticate', 'Basic realm="group-rental OGC API", charset="UTF-8"')
      const auth = req.headers.authorization
      if (auth?.startsWith('Basic ')) {
        const u = await basicUser(auth)
        if (u === 'locked') return deny(req, 401, 'This user name is locked for a while after repeated wrong passwords.', 'locked', '密码多次错误，此用户名暂时被锁定。')
        if (!u) return deny(req, 401, 'The user name or password is wrong.', 'bad-credentials', '用户名或密码错误。')
        req.user = u
        reply.removeHeader('WWW-Authenticate')
      }
    }
    if (!req.user) return deny(req, 401, 'Please sign in.', 'signin-required', '请先登录。')
    if (!can(req.user.role, permission)) {
      return deny(req, 403, `Your role (${req.user.role}) does not allow this (${permission}).`, 'forbidden', `您的角色（${roleZh[req.user.role] ?? req.user.role}）无权进行此操作（${permission}）。`)
    }
  })

  app.decorate('userOf', (req: FastifyRequest) => {
    if (!req.user) throw new AccessError(401, 'Please sign in.', 'signin-required')
    return req.user
  })

  app.decorate('writeTx', <T>(req: FastifyRequest, fn: (tx: Tx) => Promise<T>) =>
    app.db.sql.begin(async (tx) => {
      if (req.user) await tx`select set_config('app.user_id', ${String(req.user.id)}, true)`
      return fn(tx)
    }) as Promise<T>)

  // Answers from the API may hold personal data: never cached by browsers or proxies.
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store')
    return payload
  })
}, { name: 'access', dependencies: ['db', 'users', 'audit'] })

/** Permissions of a role, for the web app to show only what it may use. */
export const permissionsOf = (role: SessionUser['role']) => [...grants[role]]
