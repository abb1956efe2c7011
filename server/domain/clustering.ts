import { dbscan, distanceMetres, NOISE } from './dbscan.js'

/**
 * The arithmetic of a cluster analysis, kept free of the database and of Node's event loop so that
 * it can run in a worker thread: DBSCAN labels and, for each cluster, the nearest of a list of places.
 * Coordinates travel as typed arrays (degrees, WGS-84) because they cross to the worker without a copy.
 */
export interface ClusterJob {
  lons: Float64Array
  lats: Float64Array
  /** Metres. */
  eps: number
  minPoints: number
  placeLons: Float64Array
  placeLats: Float64Array
}

export interface ClusterResult {
  /** Per point: its cluster (0, 1, ...) or NOISE (-1). */
  labels: Int32Array
  /** Per cluster: the index of its nearest place (-1 when there are no places). */
  nearest: Int32Array
  /** Per cluster: metres from its closest point to that place. */
  nearestMetres: Float64Array
}

export function clusterPoints(job: ClusterJob): ClusterResult {
  const n = job.lons.length
  const points = Array.from({ length: n }, (_, i) => ({ lon: job.lons[i]!, lat: job.lats[i]! }))
  const labels = dbscan(points, job.eps, job.minPoints)
  const clusters = labels.reduce((a, l) => Math.max(a, l + 1), 0)
  const nearest = new Int32Array(clusters).fill(-1)
  const nearestMetres = new Float64Array(clusters).fill(Infinity)
  const places = Array.from({ length: job.placeLons.length }, (_, i) => ({ lon: job.placeLons[i]!, lat: job.placeLats[i]! }))
  // The distance from a cluster to a place is from the cluster's closest point; among places at the
  // same distance the first in the list (the lowest id) wins, so the answer is repeatable.
  for (let i = 0; i < n; i++) {
    const c = labels[i]!
    if (c === NOISE) continue
    for (let k = 0; k < places.length; k++) {
      const d = distanceMetres(points[i]!, places[k]!)
      if (d < nearestMetres[c]! || (d === nearestMetres[c]! && k < nearest[c]!)) {
        nearestMetres[c] = d
        nearest[c] = k
      }
    }
  }
  return { labels, nearest, nearestMetres }
}
