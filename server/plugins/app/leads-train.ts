import { Worker } from 'node:worker_threads'
import type { TrainingExample, trainLogistic } from '../../domain/leads-model.js'

/** Trains a lead model in a worker thread of its own, which ends with the training. */
export function trainInWorker(examples: TrainingExample[]): Promise<ReturnType<typeof trainLogistic>> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./leads-train-worker.mjs', import.meta.url), { workerData: examples })
    w.once('message', (m: { result?: ReturnType<typeof trainLogistic>; error?: string }) => {
      if (m.error !== undefined) reject(new Error(`training failed: ${m.error}`))
      else resolve(m.result!)
      void w.terminate()
    })
    w.once('error', reject)
    w.once('exit', (code) => {
      if (code !== 0 && code !== 1) reject(new Error(`the training worker stopped (exit code ${code})`))
    })
  })
}
