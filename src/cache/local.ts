// Caches in a directory, for the CLI (--cache-dir) and for self-hosted runners whose disks outlive a job.
//
// <dir>/entries/<sha256(key)>.data holds an entry's file, <…>.json its metadata; <dir>/tmp holds saves in
// progress, on the same filesystem so that entries appear by link(). An entry exists once its .json does:
// a save links the data first and the metadata last, eviction removes them in the opposite order. link()
// fails on an existing name, so of concurrent saves of one key exactly one wins, and an entry's data is
// never replaced under its metadata. The .json's mtime is the entry's last use (save or restore).
import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { link, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Logger } from '../logger.js'
import { startProgress } from '../progress.js'
import { CacheError, type CacheStore } from './store.js'

/** A temp file or a data file without metadata this old is left over from a crash, not a save in progress. */
const ABANDONED_MS = 3600_000

interface EntryMeta {
  key: string
  bytes: number
  /** Milliseconds since the epoch, with a fraction: saves in quick succession still order. */
  created: number
}

/** `${XDG_CACHE_HOME:-~/.cache}/kube-release` */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  // The XDG spec says to ignore a relative XDG_CACHE_HOME.
  const xdg = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined
  return join(xdg ?? join(env.HOME || homedir(), '.cache'), 'kube-release')
}

const now = (): number => performance.timeOrigin + performance.now()
const isErrno = (error: unknown, code: string): boolean => (error as NodeJS.ErrnoException)?.code === code

export class LocalCacheStore implements CacheStore {
  readonly description: string
  private readonly dir: string
  readonly quotaBytes: number
  private readonly log: Pick<Logger, 'info'>

  constructor(
    dir: string,
    { maxBytes, log }: { readonly maxBytes: number; readonly log: Pick<Logger, 'info'> }
  ) {
    this.dir = resolve(dir)
    this.quotaBytes = maxBytes
    this.log = log
    this.description = `the cache directory ${this.dir}`
  }

  async restore(path: string, key: string, restoreKeys: readonly string[] = []): Promise<string | undefined> {
    try {
      for await (const meta of this.candidates(key, restoreKeys)) {
        if (await this.copyOut(meta, path)) return meta.key
      }
      await rm(path, { force: true })
      return undefined
    } catch (error) {
      throw new CacheError(this, 'restore', key, error)
    }
  }

  async save(path: string, key: string): Promise<boolean> {
    const temp = join(this.dir, 'tmp', randomUUID())
    try {
      const { size } = await stat(path)
      if (size > this.quotaBytes) {
        throw new Error(`the entry of ${size} bytes exceeds the cache limit of ${this.quotaBytes} bytes`)
      }
      if (await this.readMeta(this.entry(key, 'json'))) return false
      await mkdir(join(this.dir, 'tmp'), { recursive: true })
      await mkdir(join(this.dir, 'entries'), { recursive: true })
      await this.copy(path, `${temp}.data`, `saving ${key}`)
      const meta: EntryMeta = { key, bytes: (await stat(`${temp}.data`)).size, created: now() }
      await writeFile(`${temp}.json`, JSON.stringify(meta))
      await utimes(`${temp}.json`, meta.created / 1000, meta.created / 1000)
      // EEXIST: another save of this key won, or is about to.
      if (!(await linkNew(`${temp}.data`, this.entry(key, 'data')))) return false
      if (!(await linkNew(`${temp}.json`, this.entry(key, 'json')))) return false
      await this.evict()
      return true
    } catch (error) {
      throw new CacheError(this, 'save', key, error)
    } finally {
      await Promise.all([rm(`${temp}.data`, { force: true }), rm(`${temp}.json`, { force: true })])
    }
  }

  /** Streams a file (memory stays flat at any size), with progress in the log while it takes long. */
  private async copy(from: string, to: string, what: string): Promise<void> {
    const progress = startProgress(`cache: ${what}`, this.log, { total: (await stat(from)).size })
    try {
      await pipeline(createReadStream(from), progress.counter(), createWriteStream(to))
    } finally {
      progress.stop()
    }
  }

  private entry(key: string, ext: 'data' | 'json'): string {
    return join(this.dir, 'entries', `${createHash('sha256').update(key).digest('hex')}.${ext}`)
  }

  /** The exact entry, then the newest entry for each restore key: what a restore tries, in order. */
  private async *candidates(key: string, restoreKeys: readonly string[]): AsyncGenerator<EntryMeta> {
    const exact = await this.readMeta(this.entry(key, 'json'))
    if (exact?.key === key) yield exact
    if (restoreKeys.length === 0) return
    const all = (await this.list()).sort((a, b) => b.meta.created - a.meta.created)
    for (const prefix of restoreKeys) {
      const newest = all.find(({ meta }) => meta.key.startsWith(prefix))
      if (newest) yield newest.meta
    }
  }

  /** Copies an entry to `path` by way of a temp file; false if it was evicted since its metadata was read. */
  private async copyOut(meta: EntryMeta, path: string): Promise<boolean> {
    const temp = `${path}.${randomUUID()}.part`
    try {
      await mkdir(dirname(path), { recursive: true })
      await this.copy(this.entry(meta.key, 'data'), temp, `restoring ${meta.key}`)
      // Another size: evicted and saved again by another run in between. Its data is no longer this entry.
      if ((await stat(temp)).size !== meta.bytes) return false
      await rename(temp, path)
      const used = now() / 1000
      await utimes(this.entry(meta.key, 'json'), used, used).catch(() => {}) // evicted meanwhile: no matter
      return true
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false
      throw error
    } finally {
      await rm(temp, { force: true })
    }
  }

  private async readMeta(file: string): Promise<EntryMeta | undefined> {
    try {
      const meta = JSON.parse(await readFile(file, 'utf8')) as Partial<EntryMeta>
      const valid =
        typeof meta.key === 'string' && typeof meta.bytes === 'number' && typeof meta.created === 'number'
      return valid ? (meta as EntryMeta) : undefined
    } catch (error) {
      // Gone (evicted) or unreadable: not an entry. Anything else (permissions, I/O) is an error.
      if (isErrno(error, 'ENOENT') || error instanceof SyntaxError) return undefined
      throw error
    }
  }

  /** Every entry with its last use (ms). */
  private async list(): Promise<{ meta: EntryMeta; used: number }[]> {
    const names = await readdir(join(this.dir, 'entries')).catch(() => [])
    const entries = await Promise.all(
      names
        .filter(name => name.endsWith('.json'))
        .map(async name => {
          const file = join(this.dir, 'entries', name)
          const [meta, stats] = await Promise.all([this.readMeta(file), stat(file).catch(() => undefined)])
          return meta && stats ? { meta, used: stats.mtimeMs } : undefined
        })
    )
    return entries.filter(entry => entry !== undefined)
  }

  /** Removes the least recently used entries until the rest fit in quotaBytes, and leftovers of crashes. */
  private async evict(): Promise<void> {
    const entries = (await this.list()).sort((a, b) => a.used - b.used)
    let total = entries.reduce((sum, { meta }) => sum + meta.bytes, 0)
    for (const { meta } of entries) {
      if (total <= this.quotaBytes) break
      await rm(this.entry(meta.key, 'json'), { force: true })
      await rm(this.entry(meta.key, 'data'), { force: true })
      total -= meta.bytes
    }
    const cutoff = Date.now() - ABANDONED_MS
    const leftovers = async (dir: string, isLeftover: (name: string) => Promise<boolean>) => {
      for (const name of await readdir(dir).catch(() => [])) {
        const file = join(dir, name)
        const stats = await stat(file).catch(() => undefined)
        if (stats && stats.mtimeMs < cutoff && (await isLeftover(name))) await rm(file, { force: true })
      }
    }
    await leftovers(join(this.dir, 'tmp'), async () => true)
    await leftovers(join(this.dir, 'entries'), async name => {
      const json = join(this.dir, 'entries', name.replace(/\.data$/, '.json'))
      return name.endsWith('.data') && (await stat(json).catch(() => undefined)) === undefined
    })
  }
}

/** link() that answers false when `to` exists. */
async function linkNew(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to)
    return true
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false
    throw error
  }
}
