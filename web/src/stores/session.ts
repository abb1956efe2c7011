import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { fetchSession, login as apiLogin, logout as apiLogout, type Me } from '../api/auth'
import { type ApiError, isUnreachable, setUnauthorizedHandler } from '../api/client'

/**
 * Who was signed in on this device when the server last said so: with no network (a reload in the
 * field) the app opens for them on what the phone keeps, and sends their queued work once the
 * server is back, which then judges the session itself. Holds no secret; cleared on signing out.
 */
const lastUserKey = 'last-signed-in'
function lastUser(): Me | null {
  try {
    return JSON.parse(localStorage.getItem(lastUserKey) ?? 'null') as Me | null
  }
  catch {
    return null
  }
}

/** Who is signed in, and why they were signed out if the server ended the session. */
export const useSessionStore = defineStore('session', () => {
  const me = ref<Me | null>(null)
  const checked = ref(false)
  /**
   * Why the user is on the sign-in page: 'session-expired', 'session-revoked', ... Kept for the
   * browser tab, so that a reload of the sign-in page still says why.
   */
  const endedReason = ref<string | null>(sessionStorage.getItem('session-ended'))
  watch(endedReason, v => (v ? sessionStorage.setItem('session-ended', v) : sessionStorage.removeItem('session-ended')))

  watch(me, v => (v ? localStorage.setItem(lastUserKey, JSON.stringify(v)) : localStorage.removeItem(lastUserKey)))
  /** True while the app runs on the last signed-in user because the server cannot be reached. */
  const offline = ref(false)

  const can = (permission: string) => !!me.value?.permissions.includes(permission)
  const signedIn = computed(() => me.value !== null)

  async function check() {
    try {
      const state = await fetchSession()
      me.value = state.user
      offline.value = false
      // A session the server ended (not merely absent) is worth telling the user about.
      if (state.ended) endedReason.value = state.ended
    }
    catch (e) {
      me.value = isUnreachable(e) ? lastUser() : null
      offline.value = me.value !== null
    }
    checked.value = true
  }

  async function login(username: string, password: string) {
    me.value = await apiLogin(username, password)
    endedReason.value = null
  }

  async function logout() {
    try {
      await apiLogout()
    }
    finally {
      me.value = null
    }
  }

  /** Installs the handler that turns a 401 anywhere into a return to the sign-in page. */
  function watchUnauthorized(onEnded: () => void) {
    setUnauthorizedHandler((e: ApiError) => {
      if (!me.value) return
      me.value = null
      endedReason.value = e.reason ?? 'signin-required'
      onEnded()
    })
  }

  return { me, checked, endedReason, offline, signedIn, can, check, login, logout, watchUnauthorized }
})
