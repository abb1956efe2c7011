import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import semver from 'semver'
import { describe, expect, it } from 'vitest'
import { rootDir } from '../../server/lib/config.js'

interface LockedPackage { version?: string, engines?: { node?: string } | string[] }
const pkg = JSON.parse(readFileSync(join(rootDir, 'package.json'), 'utf8')) as { engines: { node: string } }
const lock = JSON.parse(readFileSync(join(rootDir, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockedPackage> }
/** Every package `npm ci` installs, by its path under node_modules. */
const installed = Object.entries(lock.packages).filter(([path]) => path !== '')

describe('the installed dependencies', () => {
  // npm only warns (EBADENGINE) when a package wants a newer Node; this makes it a failure.
  it('every locked package supports the oldest Node package.json allows and the Node running the tests', () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version
    const refused = installed.flatMap(([path, p]) => {
      const wants = Array.isArray(p.engines) ? undefined : p.engines?.node
      if (!wants) return []
      return [oldest, process.versions.node]
        .filter(node => !semver.satisfies(node, wants, { includePrerelease: true }))
        .map(node => `${path}@${p.version} wants node ${wants}, not ${node}`)
    })
    expect(installed.length).toBeGreaterThan(100)
    expect(refused).toEqual([])
  })

  it('has one copy of @fastify/static', () => {
    expect(installed.filter(([path]) => path.endsWith('node_modules/@fastify/static')).map(([, p]) => p.version)).toHaveLength(1)
  })

  it('uses turf module by module: no @turf/turf, no jsts', () => {
    expect(installed.map(([path]) => path).filter(path => /node_modules\/(@turf\/turf|jsts|@turf\/jsts)$/.test(path))).toEqual([])
  })
})
