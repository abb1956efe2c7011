import { Worker } from 'node:worker_threads'
import type { ClusterJob, ClusterResult } from '../../domain/clustering.js'

/**
 * Cluster analyses run in one worker thread, so that a whole district at a million premises (seconds
 * of arithmetic) never stalls the requests of everyone else. Jobs queue in the worker in the order
 * they come; the thread starts on the first job, keeps the process alive only while it has work, and
 * is started again if it ever dies.
 */
let worker: Worker | null = null
let nextId = 1
const pending = new Map<number, { resolve: (r: ClusterResult) => void; reject: (e: Error) => void }>()

function failAll(err: Error) {
  for (const p of pending.values()) p.reject(err)
  pending.clear()
}

function start(): Worker {
  const w = new Worker(new URL('./analysis-worker-entry.mjs', import.meta.url))
  w.on('message', (m: { id: number; result?: ClusterResult; error?: string }) => {
    const p = pending.get(m.id)
    if (!p) return
    pending.delete(m.id)
    if (pending.size === 0) w.unref()
    if (m.error !== undefined) p.reject(new Error(`cluster analysis failed: ${m.error}`))
    else p.resolve(m.result!)
  })
  w.on('error', (err) => {
    if (worker === w) worker = null
    failAll(err)
  })
  w.on('exit', (code) => {
    if (worker === w) worker = null
    if (pending.size) failAll(new Error(`the cluster worker stopped (exit code ${code})`))
  })
  return w
}

/** Runs a cluster job off the event loop. The job's arrays are moved to the worker, not copied. */
export function clusterInWorker(job: ClusterJob): Promise<ClusterResult> {
  worker ??= start()
  const w = worker
  const id = nextId++
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject })
    w.ref()
    w.postMessage({ id, job }, [job.lons.buffer, job.lats.buffer, job.placeLons.buffer, job.placeLats.buffer, ...job.keys ? [job.keys.buffer] : []] as ArrayBuffer[])
  })
}
