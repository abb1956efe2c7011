// A worker thread for cluster analyses (see analysis-worker.ts). The server runs TypeScript through
// tsx, whose loader a worker does not inherit, so it is registered here before the module is loaded.
import { parentPort } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
const { clusterPoints } = await import('../../domain/clustering.ts')

parentPort.on('message', ({ id, job }) => {
  try {
    const result = clusterPoints(job)
    parentPort.postMessage({ id, result }, [result.labels.buffer, result.nearest.buffer, result.nearestMetres.buffer, result.centres.buffer])
  }
  catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.stack ?? err.message : String(err) })
  }
})
