/**
 * The load generator of `npm run bench -- --load`, in a process of its own so that it does not
 * share the server's event loop: keeps `connections` keep-alive connections busy, each sending its
 * next request as soon as the last one is answered (a closed loop, like autocannon), or after a
 * think time (`thinkMs`, exponentially distributed, as a person reads the map before the next pan),
 * and reports every request's latency per endpoint. Started by bench-load.ts over IPC.
 */
import { Agent, request } from 'node:http'
import postgres from 'postgres'

/** One request of the mix. */
export interface LoadRequest {
  endpoint: string
  method: 'GET' | 'POST'
  path: string
  cookie: string
  body?: string
}

export interface LoadPlan {
  base: string
  requests: LoadRequest[]
  connections: number
  /** Seconds sent but not recorded first (tile caches, plans, buffers). */
  warmupSeconds: number
  seconds: number
  /** A request not answered within this is counted as a timeout (an error). */
  timeoutMs: number
  /** Mean pause of a connection between an answer and its next request; 0: none (a closed loop). */
  thinkMs: number
  /** The app's database, whose pooled connections are sampled over the measured seconds. */
  sampleUrl?: string
}

export interface EndpointResult {
  /** Milliseconds of each answered request (2xx), in the order they finished. */
  latencies: number[]
  /** Answers that were not 2xx, by status; 'timeout' and 'network' for requests never answered. */
  errors: Record<string, number>
  /** Bytes of the answered requests' bodies as sent (gzipped where the server gzipped them). */
  bytes: number
}

export interface LoadResult {
  endpoints: Record<string, EndpointResult>
  /** Seconds actually measured (after the warm-up). */
  seconds: number
  /** CPU seconds this client process used over the measured seconds (it shares the machine with the server). */
  cpuSeconds: number
  /** What the app's pooled connections did over the measured seconds (poolSampler). */
  pool?: PoolSample
}

/** How busy the app's pool was on average, over how many samples, and the statements holding it by share. */
interface PoolSample { samples: number; meanActive: number; top: { query: string; share: number }[] }


/**
 * Samples what the app's pooled connections are doing (pg_stat_activity, on a connection of its own)
 * every few milliseconds until stopped: how many of them run a statement on average, and which
 * statements hold them, by their share of the samples. It runs here, not in the server's process,
 * so that a busy event loop there does not thin the samples out. A pool that is nearly always full means
 * requests queue for a connection; one with room to spare while latency grows means they wait
 * for something else (the server's event loop, the machine).
 */
function poolSampler(url: string, everyMs = 20) {
  const watcher = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'group-rental-bench-sampler' } })
  const statements = new Map<string, number>()
  let samples = 0
  let active = 0
  let stopped = false
  const running = (async () => {
    while (!stopped) {
      const rows = await watcher<{ query: string }[]>`
        select regexp_replace(left(query, 400), '\\s+', ' ', 'g') as query from pg_stat_activity
        where datname = current_database() and application_name = 'group-rental-dashboard' and state = 'active'`
      samples++
      active += rows.length
      for (const { query } of rows) statements.set(query, (statements.get(query) ?? 0) + 1)
      await new Promise(r => setTimeout(r, everyMs))
    }
  })()
  return {
    async stop(): Promise<PoolSample> {
      stopped = true
      await running
      await watcher.end()
      const top = [...statements].sort((a, b) => b[1] - a[1]).slice(0, 12)
      return { samples, meanActive: active / Math.max(1, samples), top: top.map(([query, n]) => ({ query, share: n / Math.max(1, active) })) }
    },
  }
}

/** Sends one request as a browser would (taking gzip) and reads its body; the status and the bytes received. */
function send(agent: Agent, base: URL, r: LoadRequest, timeoutMs: number): Promise<{ outcome: number | 'timeout' | 'network'; bytes: number }> {
  return new Promise((resolve) => {
    const req = request({
      agent, host: base.hostname, port: base.port, method: r.method, path: r.path,
      headers: { 'cookie': r.cookie, 'accept-encoding': 'gzip, deflate, br', ...(r.body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(r.body) } : {}) },
    }, (res) => {
      let bytes = 0
      res.on('data', (chunk: Buffer) => { bytes += chunk.byteLength })
      res.on('end', () => resolve({ outcome: res.statusCode ?? 0, bytes }))
      res.on('error', () => resolve({ outcome: 'network', bytes }))
    })
    req.setTimeout(timeoutMs, () => {
      req.destroy()
      resolve({ outcome: 'timeout', bytes: 0 })
    })
    req.on('error', () => resolve({ outcome: 'network', bytes: 0 }))
    req.end(r.body)
  })
}

/** Runs the plan: warm-up, then the measured seconds. */
export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: plan.connections })
  const base = new URL(plan.base)
  const endpoints: Record<string, EndpointResult> = {}
  for (const r of plan.requests) endpoints[r.endpoint] ??= { latencies: [], errors: {}, bytes: 0 }
  const start = performance.now()
  const measureFrom = start + plan.warmupSeconds * 1000
  const end = measureFrom + plan.seconds * 1000
  let cpu0 = process.cpuUsage()
  let sampler: ReturnType<typeof poolSampler> | undefined
  setTimeout(() => {
    cpu0 = process.cpuUsage()
    if (plan.sampleUrl) sampler = poolSampler(plan.sampleUrl)
  }, plan.warmupSeconds * 1000)
  let next = 0
  // A seeded generator, so that runs with the same plan pause alike.
  let seed = 20191227
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const think = () => new Promise(r => setTimeout(r, -Math.log(1 - rand()) * plan.thinkMs))
  async function connection() {
    // Connections start spread over one think time, not all at once.
    if (plan.thinkMs > 0) await new Promise(r => setTimeout(r, rand() * plan.thinkMs))
    while (performance.now() < end) {
      const r = plan.requests[next++ % plan.requests.length]!
      const t0 = performance.now()
      const { outcome, bytes } = await send(agent, base, r, plan.timeoutMs)
      const t1 = performance.now()
      // Requests begun in the warm-up are not counted; those begun in the run are, however long they take.
      if (t0 < measureFrom) continue
      const e = endpoints[r.endpoint]!
      if (typeof outcome === 'number' && outcome >= 200 && outcome < 300) {
        e.latencies.push(t1 - t0)
        e.bytes += bytes
      }
      else e.errors[String(outcome)] = (e.errors[String(outcome)] ?? 0) + 1
      if (plan.thinkMs > 0) await think()
    }
  }
  await Promise.all(Array.from({ length: plan.connections }, () => connection()))
  agent.destroy()
  const cpu = process.cpuUsage(cpu0)
  return { endpoints, seconds: plan.seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, pool: await sampler?.stop() }
}

if (process.send) {
  process.once('message', (plan: LoadPlan) => {
    void runLoad(plan).then((result) => {
      process.send!(result, () => process.exit(0))
    })
  })
}
