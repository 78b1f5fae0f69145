// The Go build cache between runs (kube/go-cache.ts says what is kept and why): restored into an
// empty workspace before the build, saved after it holding only what the build used or added.
// Problems are warnings: the build goes on cold, and a run never fails for its cache.
import { createReadStream } from 'node:fs'
import { mkdir, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Readable } from 'node:stream'
import type { WorkspaceShell } from '../docker/workspace-shell.js'
import { errorMessage } from '../errors.js'
import {
  BACKDATE_SCRIPT,
  BACKDATE_SECONDS,
  CREATE_SCRIPT,
  EXPORT_SCRIPT,
  FORGET_SCRIPT,
  GO_DIR,
  MEASURE_SCRIPT,
  goCacheCount
} from '../kube/go-cache.js'
import type { Logger } from '../logger.js'
import { formatBytes, secondsSince, startProgress, type Transfer } from '../progress.js'
import type { CacheStore } from './store.js'

/**
 * Where the export container writes the archive, in its own file system: it is copied out over the
 * API (so it works whatever the engine shares with this host) and goes with the container.
 */
const ARCHIVE_IN_CONTAINER = '/tmp/kube-release-go-cache.tar'

export interface BuildCacheTarget {
  readonly shell: WorkspaceShell
  readonly store: CacheStore
  readonly log: Logger
  /** uid:gid of the build; 0:0 on rootless engines. */
  readonly owner: string
  /** The archive on the host: a stable path (the GitHub cache's version includes it). */
  readonly archive: string
}

export interface BuildCacheUse {
  /** This run's key, and the prefix its restore matched by. */
  readonly key: string
  readonly restoredKey: string | null
  /** The size of the restored entry's archive; 0 when none was restored. */
  readonly restoredBytes: number
  /** How long the restore took, download and extraction; 0 when none was restored. */
  readonly restoreSeconds: number
  /** Entries in the Go build cache when the build starts. */
  readonly entries: number
  /** Bytes of GOPATH (the Go build cache in it) when the build starts: what was restored or kept. */
  readonly startBytes: number
  /** Entries older than this (epoch seconds) were not used by this build. */
  readonly since: number
}

/** The entry restored, with the size of its archive and the time it took. */
interface Restored extends Transfer {
  readonly key: string
}

async function restore(target: BuildCacheTarget, key: string, prefix: string): Promise<Restored | null> {
  const { shell, log, archive } = target
  const started = performance.now()
  try {
    await mkdir(dirname(archive), { recursive: true })
    const restoredKey = await target.store.restore(archive, key, [prefix])
    if (!restoredKey) {
      log.info(`build cache: no entry starting with ${prefix}`)
      return null
    }
    await shell.run(CREATE_SCRIPT, [GO_DIR], { user: '0:0' })
    const { size } = await stat(archive)
    const progress = startProgress('build cache: extracting', log, { total: size })
    try {
      await shell.put(GO_DIR, Readable.from(progress.count(createReadStream(archive))))
    } finally {
      progress.stop()
    }
    log.info(`build cache: restored ${restoredKey} (${formatBytes(size)})`)
    return { key: restoredKey, bytes: size, seconds: secondsSince(started) }
  } catch (err) {
    log.warning(`build cache: could not restore (${errorMessage(err)}); building without it`)
    await shell.run(FORGET_SCRIPT, [GO_DIR], { user: '0:0' }).catch(() => undefined)
    return null
  } finally {
    await rm(archive, { force: true })
  }
}

/**
 * Restores the newest entry starting with `prefix` into a workspace that has no cache yet (`empty`),
 * then dates the cache's entries back; returns what the save needs.
 */
export async function prepareBuildCache(
  target: BuildCacheTarget,
  keys: { readonly key: string; readonly prefix: string },
  empty: boolean
): Promise<BuildCacheUse> {
  const restored = empty ? await restore(target, keys.key, keys.prefix) : null
  const now = Math.floor(Date.now() / 1000)
  const lines = await target.shell.run(
    BACKDATE_SCRIPT,
    [GO_DIR, target.owner, String(now - BACKDATE_SECONDS)],
    {
      user: '0:0'
    }
  )
  return {
    key: keys.key,
    restoredKey: restored?.key ?? null,
    restoredBytes: restored?.bytes ?? 0,
    restoreSeconds: restored?.seconds ?? 0,
    entries: goCacheCount(lines, 'entries'),
    startBytes: goCacheCount(lines, 'bytes'),
    since: now
  }
}

/** Below this, new bytes are not worth a new entry; the same every run saves none. */
export const MIN_SAVE_BYTES = 32 * 1024 ** 2
/** … nor, on a large cache, less than this share of it. */
export const MIN_SAVE_SHARE = 0.05

/**
 * The new bytes a build must add for a new entry: max(32 MiB, 5 % of what it started with). A build
 * that started with nothing saves whatever it made (there is no entry to fall back to). Every entry
 * is a whole copy, so a few MiB more each run would fill the cache quota with near-duplicates.
 */
export function saveThreshold(startBytes: number): number {
  return startBytes === 0 ? 1 : Math.max(MIN_SAVE_BYTES, MIN_SAVE_SHARE * startBytes)
}

/**
 * Saves what the build used or added under the run's key, when it added enough (saveThreshold);
 * returns the size of the entry saved and the time it took, null when none was saved.
 */
export async function saveBuildCache(target: BuildCacheTarget, use: BuildCacheUse): Promise<Transfer | null> {
  const { log, archive } = target
  const started = performance.now()
  try {
    const lines = await target.shell.run(MEASURE_SCRIPT, [GO_DIR, String(use.since)], { user: target.owner })
    const total = goCacheCount(lines, 'entries')
    const fresh = goCacheCount(lines, 'fresh')
    const added = goCacheCount(lines, 'added')
    const addedEntries = Math.max(0, total - use.entries)
    log.info(
      `build cache: ${use.entries} entries at the start, ${fresh - addedEntries} reused and ${addedEntries} added by the ` +
        `build, ${total - fresh} unused left out`
    )
    const threshold = saveThreshold(use.startBytes)
    if (added < threshold) {
      const since = use.restoredKey ? 'since restore' : 'since the build started'
      log.info(
        `build cache: ${formatBytes(added)} added ${since}; below the threshold of ${formatBytes(threshold)}: not saved`
      )
      return null
    }
    await mkdir(dirname(archive), { recursive: true })
    await target.shell.run(EXPORT_SCRIPT, [GO_DIR, String(use.since), ARCHIVE_IN_CONTAINER], {
      user: target.owner,
      copyOut: { path: ARCHIVE_IN_CONTAINER, destination: archive, what: 'build cache: copying out' }
    })
    const { size } = await stat(archive)
    const saved = await target.store.save(archive, use.key)
    log.info(
      saved
        ? `build cache: saved ${use.key} (${formatBytes(size)}, ${formatBytes(added)} of it new)`
        : `build cache: ${use.key} exists already`
    )
    return saved ? { bytes: size, seconds: secondsSince(started) } : null
  } catch (err) {
    log.warning(`build cache: could not save: ${errorMessage(err)}`)
    return null
  } finally {
    await rm(archive, { force: true })
  }
}
