// The worker thread that turns the demo's rows into COPY text (see copyWriter in load.ts). tsx's
// loader is not inherited by a worker, so it is registered here before the module is loaded.
import { parentPort, workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
const { batchText } = await import('./copy-text.ts')
// Buffers arrive as plain Uint8Arrays.
const keys = { enc: Buffer.from(workerData.enc), mac: Buffer.from(workerData.mac) }

parentPort.on('message', ({ id, batch }) => {
  try {
    parentPort.postMessage({ id, text: batchText(keys, batch) })
  }
  catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.stack ?? err.message : String(err) })
  }
})
