/**
 * Names the offline parts share, in a module of their own: the sign-in redirect (App.vue, on the
 * first load) reads one without loading the queue or IndexedDB.
 */

/** The Cache Storage cache that holds the premises tiles of the area downloaded for offline use. */
export const offlineTileCache = 'grd-offline-tiles'

/**
 * Set (sessionStorage) while the signed-in user's writes wait on the phone: a session found ended
 * then (a 401 to the queue's own send or to a page's read, or a page opened again in the tab) leads
 * through the sign-in page to the sync screen, where the inspector sees them sent.
 */
export const syncAfterSignInKey = 'sync-after-sign-in'

/** Where the sign-in leads for a user who was on `path`: the sync screen while their writes wait on the phone. */
export const afterSignIn = (path: string): string => (sessionStorage.getItem(syncAfterSignInKey) ? '/sync' : path)
