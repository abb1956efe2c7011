import { createRouter, createWebHistory } from 'vue-router'
import { prefetchMapData } from './components/map/map-data'
import { afterSignIn } from './offline/names'
import { useSessionStore } from './stores/session'

declare module 'vue-router' {
  interface RouteMeta {
    /** The permission a page needs; pages without one are open to any signed-in user. */
    permission?: string
    public?: boolean
  }
}

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', name: 'login', component: () => import('./views/SignInView.vue'), meta: { public: true } },
    // The map's data is asked for while its code loads (the router loads a page once signed in and allowed).
    { path: '/', name: 'map', component: () => {
      prefetchMapData()
      return import('./views/MapView.vue')
    }, meta: { permission: 'map:read' } },
    { path: '/dashboard', name: 'dashboard', component: () => import('./views/DashboardView.vue'), meta: { permission: 'stats:read' } },
    { path: '/key-areas', name: 'key-areas', component: () => import('./views/KeyAreasView.vue'), meta: { permission: 'map:read' } },
    { path: '/key-areas/new', name: 'key-area-new', component: () => import('./views/KeyAreaEditView.vue'), meta: { permission: 'key-areas:write' } },
    { path: '/key-areas/:id(\\d+)', name: 'key-area', component: () => import('./views/KeyAreaView.vue'), meta: { permission: 'map:read' } },
    { path: '/key-areas/:id(\\d+)/edit', name: 'key-area-edit', component: () => import('./views/KeyAreaEditView.vue'), meta: { permission: 'key-areas:write' } },
    { path: '/reports', name: 'reports', component: () => import('./views/ReportsView.vue'), meta: { permission: 'stats:read' } },
    { path: '/enforcement', name: 'enforcement', component: () => import('./views/EnforcementView.vue'), meta: { permission: 'enforcement:write' } },
    { path: '/imports', name: 'imports', component: () => import('./views/ImportView.vue'), meta: { permission: 'import' } },
    { path: '/analysis', name: 'analysis', component: () => import('./views/AnalysisView.vue'), meta: { permission: 'analysis:run' } },
    { path: '/leads', name: 'leads', component: () => import('./views/LeadsView.vue'), meta: { permission: 'leads:read' } },
    { path: '/tasks', name: 'tasks', component: () => import('./views/TasksView.vue'), meta: { permission: 'tasks:assign' } },
    { path: '/inbox', name: 'inbox', component: () => import('./views/InboxView.vue') },
    { path: '/supervision', name: 'supervision', component: () => import('./views/SupervisionView.vue'), meta: { permission: 'supervision:read' } },
    { path: '/revisits', name: 'revisits', component: () => import('./views/RevisitsView.vue'), meta: { permission: 'supervision:read' } },
    { path: '/my-tasks', name: 'my-tasks', component: () => import('./views/MyTasksView.vue'), meta: { permission: 'tasks:work' } },
    { path: '/sync', name: 'sync', component: () => import('./views/SyncView.vue'), meta: { permission: 'inspection:write' } },
    { path: '/admin/users', name: 'users', component: () => import('./views/UsersView.vue'), meta: { permission: 'users:admin' } },
    { path: '/admin/lead-models', name: 'lead-models', component: () => import('./views/LeadModelsView.vue'), meta: { permission: 'leads:model' } },
    { path: '/admin/audit', name: 'audit', component: () => import('./views/AuditView.vue'), meta: { permission: 'audit:read' } },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

/** The first page a role may use; on a phone, an inspector's own visits. */
export function homeFor(can: (p: string) => boolean): string {
  if (can('tasks:work') && window.matchMedia('(max-width: 480px)').matches) return '/my-tasks'
  if (can('map:read')) return '/'
  if (can('users:admin')) return '/admin/users'
  return '/login'
}

router.beforeEach(async (to) => {
  const session = useSessionStore()
  if (!session.checked) await session.check()
  if (to.meta.public) return session.signedIn && to.name === 'login' ? homeFor(session.can) : true
  if (!session.signedIn) {
    // A session found ended on a page's load (a reload, a link) leads to the writes waiting too.
    const next = afterSignIn(to.fullPath)
    return { name: 'login', query: next !== '/' ? { next } : {} }
  }
  if (to.meta.permission && !session.can(to.meta.permission)) return homeFor(session.can)
  return true
})
