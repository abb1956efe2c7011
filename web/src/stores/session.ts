import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { fetchSession, login as apiLogin, logout as apiLogout, type Me } from '../api/auth'
import { type ApiError, setUnauthorizedHandler } from '../api/client'

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

  const can = (permission: string) => !!me.value?.permissions.includes(permission)
  const signedIn = computed(() => me.value !== null)

  async function check() {
    try {
      const state = await fetchSession()
      me.value = state.user
      // A session the server ended (not merely absent) is worth telling the user about.
      if (state.ended) endedReason.value = state.ended
    }
    catch {
      me.value = null
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

  return { me, checked, endedReason, signedIn, can, check, login, logout, watchUnauthorized }
})
