// The Go build cache and GOPATH of the build (_output/dockerized/go, in the data volume or the
// bind-mounted tree) between runs. Restored into an empty workspace before the build; saved after it
// holding only what the build used or added (Go refreshes the mtime of an entry it uses when that
// mtime is over an hour old, so restored entries are dated two hours back first), which keeps the
// cache bounded to the working set instead of growing run after run.
import { createReadStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import type Dockerode from 'dockerode'
import type { ContainerClient, ContainerSpec } from '../docker/containers.js'
import { OUTPUT_SUBPATH, REMOTE_ROOT } from '../kube/layout.js'
import type { Logger } from '../logger.js'
import type { CacheStore } from './store.js'

const GO_DIR = `${REMOTE_ROOT}/${OUTPUT_SUBPATH}/go`
/** Where the export container writes the archive: the host directory of `file`. */
const OUT_DIR = '/kube-release-cache'
const AGE_SECONDS = 2 * 60 * 60

// Fixed scripts; the only values they get are positional arguments, never spliced into the text.
const PREPARE = `set -eu
mkdir -p "$1/cache/build"
chown -R "$2" "$1"
find "$1/cache/build" -type f -exec touch -h -d "@$3" {} +
echo "kube-release-cache entries=$(find "$1/cache/build" -type f | wc -l)"`
const EXPORT = `set -eu
cd "$1"
mkdir -p cache/build
total=$(find cache/build -type f | wc -l)
{ find . -path ./cache/build -prune -o -type f -print0; find cache/build -type f -newermt "@$2" -print0; } |
  tar --null --no-recursion -cf "$3" -T -
echo "kube-release-cache entries=$total fresh=$(find cache/build -type f -newermt "@$2" | wc -l)"`

export interface BuildCacheContext {
  readonly containers: ContainerClient
  readonly log: Logger
  readonly store: CacheStore
  /** The build image: it has sh, find, tar. */
  readonly image: string
  readonly labels: Record<string, string>
  readonly name: string
  readonly binds: readonly string[]
  readonly mounts: readonly Dockerode.MountSettings[]
  /** uid:gid of the build; 0:0 on rootless engines. */
  readonly owner: string
  /** The archive on the host: a stable path (the GitHub cache's version includes it). */
  readonly file: string
}

export interface BuildCacheUse {
  readonly restoredKey?: string
  /** Entries in the Go build cache when the build starts. */
  readonly entries: number
  /** Entries older than this (epoch seconds) were not used by this build. */
  readonly since: number
}

function stat(lines: string[], name: string): number {
  const line = lines.find(l => l.startsWith('kube-release-cache '))
  return Number(new RegExp(`${name}=(\\d+)`).exec(line ?? '')?.[1] ?? 0)
}

async function runScript(
  ctx: BuildCacheContext,
  script: string,
  args: string[],
  spec: Partial<ContainerSpec>
): Promise<string[]> {
  const lines: string[] = []
  const { exitCode } = await ctx.containers.run(
    {
      name: ctx.name,
      image: ctx.image,
      cmd: ['sh', '-c', script, 'sh', ...args],
      labels: ctx.labels,
      binds: ctx.binds,
      mounts: ctx.mounts,
      ...spec
    },
    line => lines.push(line)
  )
  if (exitCode !== 0) throw new Error(`exit code ${exitCode}: ${lines.slice(-5).join(' | ')}`)
  return lines
}

/** Puts the archive into the workspace through a container that is never started. */
async function unpack(ctx: BuildCacheContext): Promise<void> {
  const container = await ctx.containers.create({
    name: ctx.name,
    image: ctx.image,
    cmd: ['true'],
    labels: ctx.labels,
    binds: ctx.binds,
    mounts: ctx.mounts,
    user: '0:0'
  })
  try {
    await ctx.containers.putArchive(container.id, GO_DIR, createReadStream(ctx.file))
  } finally {
    await ctx.containers.remove(container.id)
  }
}

/**
 * Restores the newest matching entry when `empty` (a fresh volume or tree), then dates the cache's
 * entries back; returns what the save needs. Problems are warnings: the build goes on cold.
 */
export async function prepareBuildCache(
  ctx: BuildCacheContext,
  keys: { key: string; prefix: string },
  restore: boolean
): Promise<BuildCacheUse> {
  let restoredKey: string | undefined
  if (restore) {
    try {
      await mkdir(dirname(ctx.file), { recursive: true })
      restoredKey = await ctx.store.restore(ctx.file, keys.key, [keys.prefix])
      if (restoredKey) {
        await runScript(ctx, 'mkdir -p "$1"', [GO_DIR], { user: '0:0' })
        await unpack(ctx)
        ctx.log.info(`build cache: restored ${restoredKey}`)
      } else {
        ctx.log.info(`build cache: no entry starting with ${keys.prefix}`)
      }
    } catch (err) {
      ctx.log.warning(`build cache: could not restore (${(err as Error).message}); building without it`)
      restoredKey = undefined
      await runScript(ctx, 'rm -rf "$1/cache"', [GO_DIR], { user: '0:0' }).catch(() => undefined)
    } finally {
      await rm(ctx.file, { force: true })
    }
  }
  const now = Math.floor(Date.now() / 1000)
  const lines = await runScript(ctx, PREPARE, [GO_DIR, ctx.owner, String(now - AGE_SECONDS)], { user: '0:0' })
  return { restoredKey, entries: stat(lines, 'entries'), since: now }
}

/** Saves what the build used or added under `key`; problems are warnings. */
export async function saveBuildCache(
  ctx: BuildCacheContext,
  use: BuildCacheUse,
  key: string
): Promise<boolean> {
  try {
    await mkdir(dirname(ctx.file), { recursive: true })
    const lines = await runScript(
      ctx,
      EXPORT,
      [GO_DIR, String(use.since), `${OUT_DIR}/${ctx.file.split('/').pop()}`],
      {
        user: ctx.owner,
        binds: [...ctx.binds, `${dirname(ctx.file)}:${OUT_DIR}`]
      }
    )
    const total = stat(lines, 'entries')
    const fresh = stat(lines, 'fresh')
    const added = Math.max(0, total - use.entries)
    ctx.log.info(
      `build cache: ${use.entries} entries at the start, ${fresh - added} reused and ${added} added by the ` +
        `build, ${total - fresh} unused left out`
    )
    const saved = await ctx.store.save(ctx.file, key)
    ctx.log.info(saved ? `build cache: saved ${key}` : `build cache: ${key} exists already`)
    return saved
  } catch (err) {
    ctx.log.warning(`build cache: could not save: ${(err as Error).message}`)
    return false
  } finally {
    await rm(ctx.file, { force: true })
  }
}
