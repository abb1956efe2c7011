/**
 * The inspector's phone app opened from its cache (issue 15): in headless Chromium at 390 × 844 with
 * touch, the app is loaded once online (the service worker keeps its shell), then opened again in new
 * tabs with no network, and the time to the shell drawn from the cache is measured.
 */
import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { buildApp } from '../server/app.js'
import type { Database } from '../server/db/index.js'
import { hashPassword } from '../server/domain/passwords.js'
import { piiKeysFrom } from '../server/domain/pii.js'
import { rootDir } from '../server/lib/config.js'
import type { Page } from 'playwright-core'
import { launchChromium, phoneContext } from '../tests/helpers/browser.js'

interface Row { measure: string; value: string; note: string }

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

/** Offline openings of the installed phone app: `loads` of them, after one online load that installs it. */
export async function benchPhoneShell(database: Database, opts: { loads: number }): Promise<Row[]> {
  const webRoot = join(rootDir, 'web', 'dist')
  if (!existsSync(join(webRoot, 'index.html'))) return [{ measure: 'phone app shell from cache', value: '-', note: 'web/dist missing: npm run build first' }]
  const [town] = await database.sql<{ id: number }[]>`select id from admin_area where level = 'town' order by code limit 1`
  const [inspector] = await database.sql<{ id: number }[]>`
    insert into app_user (username, display_name, password_hash, role, jurisdiction_kind, jurisdiction_town_id)
    values ('bench.shell', 'Benchmark inspector (phone)', ${await hashPassword('bench-password')}, 'inspector', 'town', ${town!.id})
    on conflict (username) do update set jurisdiction_town_id = excluded.jurisdiction_town_id returning id`
  // One open visit, so that "my tasks" has something to list from the phone's copy.
  await database.sql`
    insert into task (kind, premises_id, assignee_id, assigned_by, batch_id, due_on)
    select 'revisit', p.id, ${inspector!.id}, ${inspector!.id}, gen_random_uuid(), current_date + 7 from premises p
    where p.town_id = ${town!.id} and not exists (select 1 from task t where t.assignee_id = ${inspector!.id} and t.status = 'open')
    order by p.id limit 1`

  const app = await buildApp({ db: database, keys: piiKeysFrom(Buffer.alloc(32, 1)), webRoot })
  // Service workers allowed: the tests' browser blocks them unless a test of working offline asks.
  const browser = await launchChromium({ serviceWorkers: 'allow' })
  try {
    await app.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'bench.shell', password: 'bench-password' } })
    const session = login.cookies.find(c => c.name === 'grd_session')!.value
    const context = await browser.newContext({ ...phoneContext })
    await context.addCookies([{ name: 'grd_session', value: session, url: base }])
    const page = await context.newPage()
    const t0 = performance.now()
    await page.goto(`${base}/my-tasks`)
    await page.waitForSelector('[data-testid="task-list"] [data-task]', { timeout: 60_000 })
    const online = performance.now() - t0
    // Installed: the worker has kept every built file and controls the page.
    await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, { timeout: 60_000 })
    await context.setOffline(true)
    await page.close()
    const shell: number[] = []
    const tasks: number[] = []
    // A new tab each time, as the app opened again from the phone's home screen. Timed by the page's
    // own clock from the start of its navigation (the driver's overhead left out), to a frame.
    const at = (p: Page, selectors: string[]) => p.waitForFunction(s => s.every(q => document.querySelector(q)) && performance.now(), selectors, { timeout: 60_000 })
      .then(h => h.jsonValue() as Promise<number>)
    for (let i = 0; i < opts.loads; i++) {
      const tab = await context.newPage()
      await tab.goto(`${base}/my-tasks`, { waitUntil: 'commit' })
      shell.push(await at(tab, ['[data-testid="who"]', '[data-testid="my-tasks"]']))
      tasks.push(await at(tab, ['[data-testid="task-list"] [data-task]']))
      await tab.close()
    }
    await context.close()
    const ms = (xs: number[]) => `${percentile(xs, 50).toFixed(0)} / ${Math.max(...xs).toFixed(0)} ms`
    return [
      { measure: 'phone app shell from cache, offline p50 / max', value: ms(shell), note: `headless Chromium 390 × 844 touch, no network, ${opts.loads} times in a new tab: navigation start to the header and "my tasks" drawn from the service worker's cache` },
      { measure: '  my tasks listed from the phone, offline p50 / max', value: ms(tasks), note: 'the same loads until the visits are listed from the copies kept on the phone' },
      { measure: '  first load online (installs the shell)', value: `${online.toFixed(0)} ms`, note: 'cold cache, the same page with the network, until the visits are listed' },
    ]
  }
  finally {
    await browser.close()
    await app.close()
  }
}
