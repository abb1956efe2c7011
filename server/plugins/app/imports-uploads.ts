import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Where uploaded ledgers wait for their dry run and commit. A ledger carries full ID numbers,
 * names and phones, so it is never at rest in the clear: each file is encrypted with AES-256-GCM
 * under a key that exists only in this process's memory (never written anywhere), in a directory
 * of this process's own (mode 0700, files 0600). A file outlives neither its job nor its process:
 * the import removes it after a commit, a discard or a day, and once the process is gone nobody
 * can read what it left, which the next start-up (or any other server's sweep) then deletes.
 */

const prefix = 'grd-uploads-'
/** A directory untouched for this long belongs to a process that is gone (live ones touch theirs). */
export const orphanAfterMs = 15 * 60_000

export interface UploadStore {
  /** Encrypts and stores a file under the job's id. */
  put: (id: string, data: Buffer) => Promise<void>
  /** The file as uploaded (decrypted); throws when it is gone. */
  get: (id: string) => Promise<Buffer>
  remove: (id: string) => Promise<void>
  /** Marks this process's directory as alive and deletes other processes' directories left behind. */
  sweep: (now?: number) => Promise<void>
  /** Deletes this process's directory and every file in it. */
  close: () => Promise<void>
}

/**
 * Opens a store under `root` (the system's temporary directory by default). The directory of this
 * process is made on the first upload, with a name no other process can guess or claim.
 */
export function uploadStore(root = tmpdir()): UploadStore {
  const key = randomBytes(32)
  let dir: Promise<string> | null = null
  const own = () => (dir ??= mkdir(root, { recursive: true }).then(() => mkdtemp(join(root, prefix))))
  // The job's id is authenticated with the file, so one job's file cannot stand in for another's.
  const seal = (id: string, data: Buffer) => {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(id))
    const body = Buffer.concat([cipher.update(data), cipher.final()])
    return Buffer.concat([iv, cipher.getAuthTag(), body])
  }
  const open = (id: string, blob: Buffer) => {
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12)).setAAD(Buffer.from(id))
    decipher.setAuthTag(blob.subarray(12, 28))
    return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()])
  }
  // Ids are UUIDs from the job; nothing else ever names a file here.
  const fileOf = async (id: string) => {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`not an upload id: ${id}`)
    return join(await own(), id)
  }

  return {
    async put(id, data) {
      await writeFile(await fileOf(id), seal(id, data), { mode: 0o600, flag: 'wx' })
    },
    async get(id) {
      return open(id, await readFile(await fileOf(id)))
    },
    async remove(id) {
      if (dir) await rm(await fileOf(id), { force: true })
    },
    async sweep(now = Date.now()) {
      const mine = dir ? await dir : null
      if (mine) await utimes(mine, now / 1000, now / 1000)
      let names: string[]
      try {
        names = await readdir(root)
      }
      catch {
        return
      }
      const uid = process.getuid?.()
      for (const name of names) {
        if (!name.startsWith(prefix)) continue
        const path = join(root, name)
        if (path === mine) continue
        const s = await lstat(path).catch(() => null)
        // Only real directories of this user: never follow a link planted in a shared /tmp.
        if (!s || !s.isDirectory() || s.isSymbolicLink() || (uid !== undefined && s.uid !== uid)) continue
        if (now - s.mtimeMs > orphanAfterMs) await rm(path, { recursive: true, force: true })
      }
    },
    async close() {
      if (dir) await rm(await dir, { recursive: true, force: true })
      dir = null
    },
  }
}
