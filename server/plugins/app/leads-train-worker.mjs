// A worker thread that trains a lead model (see leads-train.ts): thousands of gradient steps over
// the visited leads take seconds, which must not stall everyone else's requests. The server runs
// TypeScript through tsx, whose loader a worker does not inherit, so it is registered here first.
import { parentPort, workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
const { trainLogistic } = await import('../../domain/leads-model.ts')
try {
  parentPort.postMessage({ result: trainLogistic(workerData) })
}
catch (err) {
  parentPort.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) })
}
