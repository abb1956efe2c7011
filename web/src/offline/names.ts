/**
 * Names the offline parts share, in a module of their own: the sign-in redirect (App.vue, on the
 * first load) reads one without loading the queue or IndexedDB.
 */

/** The Cache Storage cache that holds the premises tiles of the area downloaded for offline use. */
export const offlineTileCache = 'grd-offline-tiles'

/** Set (sessionStorage) while the queue sends: a 401 then leads through the sign-in page to the sync screen. */
export const syncAfterSignInKey = 'sync-after-sign-in'
