/** The Cache Storage cache that holds the premises tiles of the area downloaded for offline use. */
export const offlineTileCache = 'grd-offline-tiles'
