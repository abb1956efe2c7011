import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'

const root = fileURLToPath(new URL('..', import.meta.url))

/**
 * The browser tests that also run on the second backend when `BROWSER_TESTS=backend` (set by
 * `.ci/run` for its embedded half, so that CI runs the whole browser suite once, on PostgreSQL, and
 * stays within its time): those whose pages depend on what the backends do differently. The map's
 * points come from tiles the embedded PostGIS cannot encode itself (`map`, `map-reload`), notices
 * travel through its one session instead of a LISTEN connection (`notices`), and an empty district is
 * what a new install starts from (`empty-district`). `npm test` alone runs every file on its backend.
 */
const browserTestsOnBothBackends = ['map', 'map-reload', 'notices', 'empty-district']
const browserSubset = process.env.BROWSER_TESTS === 'backend'
const browserFiles = readdirSync(`${root}/tests/e2e`).filter(f => f.endsWith('.test.ts')).map(f => f.replace(/\.test\.ts$/, ''))
for (const name of browserTestsOnBothBackends) {
  if (!browserFiles.includes(name)) throw new Error(`tests/vitest.config.ts names tests/e2e/${name}.test.ts, which is not there`)
}

export default defineConfig({
  test: {
    root,
    include: ['tests/**/*.test.ts'],
    // A file about one backend only is named for it (`*.pg.test.ts`, `*.embedded.test.ts`) and left out
    // of the other backend's run, so that no run reports skipped tests.
    exclude: [
      ...configDefaults.exclude,
      process.env.DATABASE_URL ? 'tests/**/*.embedded.test.ts' : 'tests/**/*.pg.test.ts',
      ...browserSubset
        ? browserFiles.filter(f => !browserTestsOnBothBackends.includes(f)).map(f => `tests/e2e/${f}.test.ts`)
        : [],
    ],
    globalSetup: ['tests/helpers/global-setup.ts'],
    // Each file gets its own database; embedded ones start from a dump, real ones from a template.
    pool: 'forks',
    maxWorkers: 2,
    // On PostgreSQL, files share their worker's modules instead of importing the server again each
    // (import time 295 -> 32 s, the run 1,543 -> 1,467 s in CI). Every file opens and closes its own
    // app and database, and the server keeps no state at module level but content-keyed caches, the
    // analysis worker and the queue of halved copies (copy-binary.ts). Embedded, each file's PGlite is a large WebAssembly heap, and sharing the
    // process made the files' own time grow as much as importing shrank (1,020 -> 1,047 s).
    isolate: !process.env.DATABASE_URL,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', ['json', { outputFile: 'tests/.artifacts/vitest.json' }]],
  },
})
