import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify'
import fp from 'fastify-plugin'
import type { Tx } from '../../db/index.js'
import { can, grants, type Permission } from '../../domain/access.js'
import { textProblem } from '../../domain/text.js'
import { HttpError } from '../../lib/http-errors.js'
import type { CheckOutcome } from './credentials.js'
import { sessionUserOf, type SessionUser } from './users.js'

export const sessionCookie = 'grd_session'

export interface RouteInfo {
  method: string
  url: string
  /** Read when asked: plugins may still set it after this hook has seen the route. */
  readonly permission: Permission | undefined
  /** The route's request and response schemas (the input fuzz tests and the jurisdiction matrix are built from them). */
  readonly schema: FastifySchema | undefined
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The one permission a route needs. Routes without one are refused to everybody. */
    permission?: Permission
  }
  interface FastifyRequest {
    user: SessionUser | null
    /** Why the session cookie sent no longer signs in ('session-expired', ...), on public routes too. */
    sessionEnded: SessionEndedReason | null
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

/** How long a verified HTTP Basic header is remembered (the account's stamp is checked on every request). */
export const basicMemoryMinutes = 5

/** Why a session cookie no longer signs in, with what the user is told. */
const sessionEnded = {
  expired: { reason: 'session-expired', en: 'Your session has expired; please sign in again.', zh: '登录已过期，请重新登录。' },
  revoked: { reason: 'session-revoked', en: 'Your session was ended (signed out elsewhere or by an administrator); please sign in again.', zh: '登录已被结束（在别处退出或被管理员结束），请重新登录。' },
  disabled: { reason: 'account-disabled', en: 'This account is disabled; ask an administrator.', zh: '此账号已停用，请联系管理员。' },
} as const
export type SessionEndedReason = typeof sessionEnded[keyof typeof sessionEnded]['reason']

/** The route's pattern, or the path itself when no route of the API serves it. */
function routeOf(req: FastifyRequest): string {
  const url = req.routeOptions.url
  return url && (underApi(url) || underOgc(url)) ? url : req.url.split('?')[0]!
}

type BasicRefusal = 'locked' | 'bad-credentials' | 'account-disabled'

const underApi = (path: string) => path === '/api' || path.startsWith('/api/')
const underOgc = (path: string) => path === '/ogc' || path.startsWith('/ogc/')

const roleZh: Record<string, string> = { leader: '领导小组', commander: '片区指挥长', analyst: '研判分析员', inspector: '排查员', admin: '系统管理员' }

/**
 * Deny by default: every request is checked against its route's declared permission before any
 * handler runs. No session: 401. Expired or revoked session: 401 saying so. A role without the
 * permission: 403. Every refusal is written to the audit trail.
 */
export default fp(async (app) => {
  app.decorate('routeTable', [] as RouteInfo[])
  app.decorateRequest('user', null)
  app.decorateRequest('sessionEnded', null)

  app.addHook('onRoute', (route) => {
    // The OpenAPI pages are for signed-in users like the rest of /api.
    if (route.url.startsWith('/api/docs')) route.config = { ...route.config, permission: route.config?.permission ?? 'session' }
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) {
      app.routeTable.push({ method, url: route.url, get permission() { return route.config?.permission }, get schema() { return route.schema } })
    }
  })

  async function deny(req: FastifyRequest, status: number, message: string, code: string, zh?: string): Promise<never> {
    await app.audit.record(app.db.sql, req, {
      action: 'request.denied', entity: 'route', entityId: `${req.method} ${routeOf(req)}`, reason: code, outcome: 'denied',
    })
    throw new AccessError(status, message, code, zh)
  }

  /**
   * HTTP Basic credentials, for GIS clients of the OGC API that cannot sign in through a form. A
   * client sends the same header with each of its many requests: a verified header is remembered
   * for a while so that each request does not pay for the password hash, but only together with
   * the account's stamp, and the account is read anew on every request. Disabling it, a new
   * password, ending its sessions or a new role or jurisdiction changes the stamp, so the very next
   * request is checked again (and refused); the role and jurisdiction used are always the current
   * ones. Identical headers arriving together share one check, so that a client's parallel first
   * requests count as one attempt.
   */
  const basicVerified = new Map<string, { userId: number; stamp: number; until: number }>()
  const basicInFlight = new Map<string, Promise<CheckOutcome>>()
  async function basicUser(req: FastifyRequest, header: string): Promise<SessionUser | BasicRefusal> {
    const key = createHash('sha256').update(header).digest('base64')
    const hit = basicVerified.get(key)
    if (hit && hit.until > Date.now()) {
      const u = await app.users.current(hit.userId)
      if (u && !u.disabledAt && u.authStamp === hit.stamp) return { ...sessionUserOf(u), sessionId: 0 }
    }
    basicVerified.delete(key)
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    // A NUL or a lone surrogate names no user; it must not reach the sign-in throttle's table.
    if (colon < 1 || textProblem(decoded)) return 'bad-credentials'
    let check = basicInFlight.get(key)
    if (!check) {
      check = app.credentials.check(decoded.slice(0, colon), decoded.slice(colon + 1), { action: 'auth.basic', ip: req.ip, requestId: req.id })
        .finally(() => basicInFlight.delete(key))
      basicInFlight.set(key, check)
    }
    const outcome = await check
    if (!outcome.ok) return outcome.reason === 'wrong-credentials' ? (outcome.lockedNow ? 'locked' : 'bad-credentials') : outcome.reason
    if (basicVerified.size > 1000) basicVerified.clear()
    basicVerified.set(key, { userId: outcome.user.id, stamp: outcome.user.authStamp, until: Date.now() + basicMemoryMinutes * 60_000 })
    return { ...sessionUserOf(outcome.user), sessionId: 0 }
  }

  app.addHook('onRequest', async (req, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!
    const guarded = underApi(path) || underOgc(path)
    // A path under /api or /ogc that none of their routes serves (the not-found handler, the web
    // app's fallback) is guarded like the API: signed out, a made-up path answers as a real one does.
    // routeOptions is built afresh at each read: read once.
    const route = req.routeOptions
    const unknown = guarded && (req.is404 || !(underApi(route.url ?? '') || underOgc(route.url ?? '')))
    if (req.is404 && !unknown) return
    const permission: Permission | undefined = unknown ? 'session' : route.config?.permission
    if (!permission) return deny(req, 403, 'This route declares no permission, so nobody may use it.', 'no-permission-declared', '此接口未声明权限，任何人都不能使用。')
    const token = req.cookies[sessionCookie]
    // The web app's public files still load while the database is away (their page then says so).
    if (token && (permission !== 'public' || app.db.availability.available)) {
      const s = await app.users.session(token)
      if (s.state === 'ok') req.user = s.user
      else if (s.state !== 'unknown') {
        const ended = sessionEnded[s.state]
        req.sessionEnded = ended.reason
        if (permission !== 'public') {
          reply.clearCookie(sessionCookie, { path: '/' })
          return deny(req, 401, ended.en, ended.reason, ended.zh)
        }
      }
    }
    if (permission === 'public') return
    if (!req.user && underOgc(path)) {
      // GIS clients ask for credentials when told which kind the server takes.
      reply.header('WWW-Authenticate', 'Basic realm="group-rental OGC API", charset="UTF-8"')
      const auth = req.headers.authorization
      if (auth?.startsWith('Basic ')) {
        const u = await basicUser(req, auth)
        if (u === 'locked') return deny(req, 401, 'This user name is locked for a while after repeated wrong passwords.', 'locked', '密码多次错误，此用户名暂时被锁定。')
        if (u === 'account-disabled') return deny(req, 401, sessionEnded.disabled.en, 'account-disabled', sessionEnded.disabled.zh)
        if (u === 'bad-credentials') return deny(req, 401, 'The user name or password is wrong.', 'bad-credentials', '用户名或密码错误。')
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

  app.decorate('writeTx', async <T>(req: FastifyRequest, fn: (tx: Tx) => Promise<T>) => {
    const result = await (app.db.sql.begin(async (tx) => {
      if (req.user) await tx`select set_config('app.user_id', ${String(req.user.id)}, true)`
      return fn(tx)
    }) as Promise<T>)
    // The writer's next request must see its write, even before the database's announcement arrives.
    app.versions.forget()
    return result
  })

  // Answers from the API may hold personal data: never cached by browsers or proxies.
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store')
    return payload
  })
}, { name: 'access', dependencies: ['db', 'versions', 'users', 'audit', 'credentials'] })

/** Permissions of a role, for the web app to show only what it may use. */
export const permissionsOf = (role: SessionUser['role']) => [...grants[role]]
