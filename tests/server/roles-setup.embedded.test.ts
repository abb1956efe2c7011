import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openDatabase } from '../../server/db/index.js'
import { prepareAsLauncher as prepare } from '../helpers/launcher.js'

/** How `npm start` opens the embedded database (run on that backend only: tests/vitest.config.ts). */

describe('on the embedded database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grd-roles-'))
  beforeAll(async () => {
    // A data directory on disk, as `npm start` keeps, started from the migrated template (creating
    // one from nothing takes PGlite far longer).
    const db = await openDatabase({ dataDir: dir, loadDataDir: new Blob([readFileSync(inject('migratedTemplate'))]) })
    await db.close()
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('has no roles to create: --create-roles says so, and the process\'s one user keeps the file', async () => {
    const { configured, said, user } = await prepare({ EMBEDDED_DB_DIR: dir }, true)
    try {
      expect(configured.db.backend).toBe('embedded')
      expect(configured.owner).toBe(configured.db)
      expect(configured.applied).toEqual([])
      expect(user).toBe('postgres')
      expect(said).toMatch(/single-user file owned by this process/)
    }
    finally {
      await configured.close()
    }
  })
})
