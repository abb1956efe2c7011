import { piiKeysFrom } from '../../server/domain/pii.js'

/** A fixed key for tests: the suite must never depend on a developer's data/keys. */
export const testKeys = piiKeysFrom(Buffer.alloc(32, 7))

/** Seed and size of the shared demo database every test file starts from. */
export const testSeed = { premises: 600, seed: 42 }
