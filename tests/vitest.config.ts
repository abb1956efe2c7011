import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'

const root = fileURLToPath(new URL('..', import.meta.url))

export default defineConfig({
  test: {
    root,
    include: ['tests/**/*.test.ts'],
    // A file about one backend only is named for it (`*.pg.test.ts`, `*.embedded.test.ts`) and left out
    // of the other backend's run, so that no run reports skipped tests.
    exclude: [...configDefaults.exclude, process.env.DATABASE_URL ? 'tests/**/*.embedded.test.ts' : 'tests/**/*.pg.test.ts'],
    globalSetup: ['tests/helpers/global-setup.ts'],
    // Each file gets its own database; embedded ones start from a dump, real ones from a template.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', ['json', { outputFile: 'tests/.artifacts/vitest.json' }]],
  },
})
