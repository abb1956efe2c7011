// The worker thread that turns the demo's rows into COPY text (see copyWriter in load.ts), and at the
// end the key-area sums the main thread made (key-area-source.ts). tsx's loader is not inherited by
// a worker, so it is registered here before the modules are loaded.
import { parentPort, workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
const { batchText, transferList } = await import('./copy-text.ts')
const { KeyAreaSums } = await import('./key-area-source.ts')
// Buffers arrive as plain Uint8Arrays.
const keys = { enc: Buffer.from(workerData.enc), mac: Buffer.from(workerData.mac) }

parentPort.on('message', ({ id, batch, cells, types }) => {
  try {
    if (batch) {
      const text = batchText(keys, batch)
      parentPort.postMessage({ id, text }, transferList(text))
    }
    else {
      // Each table's text in chunks as they are made, so that the main thread COPYs one while the next is made.
      new KeyAreaSums(cells).text(types, (table, chunk) => {
        if (chunk) parentPort.postMessage({ id, table, chunk }, [chunk.buffer])
        else parentPort.postMessage({ id, table, end: true })
      })
    }
  }
  catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.stack ?? err.message : String(err) })
  }
})
