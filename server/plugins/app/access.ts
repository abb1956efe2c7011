import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Tx } from '../../db/index.js'
import { can, grants, type Permission } from '../../domain/access.js'
import { HttpError } from '../../http-errors.js'
import type { SessionUser } from './users.js'

export const sessionCookie = 'grd_session'

export interface RouteInfo {
  method: string
  url: string
  /** Read when asked: plugins may still set it after this hook has seen the route. */
  readonly permission: Permission | undefined
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
      app.routeTable.push({ method, url: route.url, get permission() { return route.config?.permission } })
    }
  })

  async function deny(req: FastifyRequest, status: number, message: string, code: string): Promise<never> {
    await app.audit.write(app.db.sql, {
      userId: req.user?.id ?? null, username: req.user?.username ?? null, action: 'request.denied',
      entity: 'route', entityId: `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`,
      reason: code, ip: req.ip, outcome: 'denied', requestId: req.id,
    })
    throw new AccessError(status, message, code)
  }

  app.addHook('onRequest', async (req, reply: FastifyReply) => {
    if (req.is404) return
    const permission = req.routeOptions.config?.permission
    if (!permission) return deny(req, 403, 'This route declares no permission, so nobody may use it.', 'no-permission-declared')
    const token = req.cookies[sessionCookie]
    if (token) {
      const s = await app.users.session(token)
      if (s.state === 'ok') req.user = s.user
      else if (permission !== 'public') {
        reply.clearCookie(sessionCookie, { path: '/' })
        if (s.state === 'expired') return deny(req, 401, 'Your session has expired; please sign in again.', 'session-expired')
        if (s.state === 'revoked') return deny(req, 401, 'Your session was ended (signed out elsewhere or by an administrator); please sign in again.', 'session-revoked')
        if (s.state === 'disabled') return deny(req, 401, 'This account is disabled; ask an administrator.', 'account-disabled')
      }
    }
    if (permission === 'public') return
    if (!req.user) return deny(req, 401, 'Please sign in.', 'signin-required')
    if (!can(req.user.role, permission)) {
      return deny(req, 403, `Your role (${req.user.role}) does not allow this (${permission}).`, 'forbidden')
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
