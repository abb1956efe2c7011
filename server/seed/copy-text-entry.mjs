// The worker thread that turns the demo's rows into COPY text (see copyWriter in load.ts), and sums
// the reports' daily changes over every batch (report-deltas.ts). tsx's loader is not inherited by a
// worker, so it is registered here before the modules are loaded.
import { parentPort, workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
const { batchText, transferList, unixMicros } = await import('./copy-text.ts')
const { ReportDeltas } = await import('./report-deltas.ts')
// Buffers arrive as plain Uint8Arrays.
const keys = { enc: Buffer.from(workerData.enc), mac: Buffer.from(workerData.mac) }
const deltas = new ReportDeltas()

// Messages are handled in the order sent: the sums are asked for after the last batch.
parentPort.on('message', ({ id, batch }) => {
  try {
    if (batch) {
      const text = batchText(keys, batch)
      deltas.add(batch, unixMicros)
      parentPort.postMessage({ id, text }, transferList(text))
    }
    else {
      parentPort.postMessage({ id, deltas: deltas.text() })
    }
  }
  catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.stack ?? err.message : String(err) })
  }
})
