/**
 * `npm test`'s checks before the tests, as many at a time as the machine has cores: the type checks
 * of the server and of the web app, the lint, the dead-code check and the web app's build (which the
 * browser tests load). One after another they took some 100 s of CI's time on its two cores, each
 * on one core; two at a time, 71 s. A failed check's output is printed whole when it ends, so that
 * two checks' lines never mix; every check runs to its end, and any that failed fails the whole.
 */
import { spawn } from 'node:child_process'
import { availableParallelism } from 'node:os'

/** The package.json scripts run, the longest first (measured: 33, 28, 23, 13 and 4 s). */
const scripts = ['lint', 'typecheck:server', 'typecheck:web', 'build', 'knip']

interface Outcome { script: string; code: number; seconds: number; output: string }

function run(script: string): Promise<Outcome> {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '1' } })
    const chunks: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => chunks.push(c))
    child.stderr.on('data', (c: Buffer) => chunks.push(c))
    const done = (code: number) => resolve({ script, code, seconds: (Date.now() - started) / 1000, output: Buffer.concat(chunks).toString() })
    child.on('error', (e) => {
      chunks.push(Buffer.from(`could not start npm: ${e.message}\n`))
      done(1)
    })
    child.on('close', code => done(code ?? 1))
  })
}

const queue = [...scripts]
const outcomes: Outcome[] = []
async function lane() {
  for (let script = queue.shift(); script; script = queue.shift()) {
    const o = await run(script)
    outcomes.push(o)
    console.log(`${o.code === 0 ? 'ok    ' : 'FAILED'} ${o.script} (${o.seconds.toFixed(1)} s)`)
    // A passing check's output (the build's list of files) says nothing the line above does not.
    if (o.code !== 0) console.log(o.output.trimEnd())
  }
}
const started = Date.now()
await Promise.all(Array.from({ length: Math.max(1, Math.min(availableParallelism(), scripts.length)) }, lane))
const failed = outcomes.filter(o => o.code !== 0)
console.log(`checks: ${outcomes.length - failed.length} of ${scripts.length} passed in ${((Date.now() - started) / 1000).toFixed(1)} s${failed.length ? `; failed: ${failed.map(o => o.script).join(', ')}` : ''}`)
process.exit(failed.length ? 1 : 0)
