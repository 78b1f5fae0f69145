// Source-sync benchmark: what the volume workspace's rsync costs, on the fixture and on the fixture
// with a generated vendor/ of many files (a Kubernetes-sized file count), each pushed cold into a new
// data volume, then again unchanged, then with one file changed; and the binaries pulled back.
// Usage: npm run bench:sync [-- --files 25000]
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { connectEngine } from '../../src/docker/engine.js'
import { createLabels, treeLabels } from '../../src/docker/labels.js'
import { VolumeRsync } from '../../src/docker/rsync.js'
import { REMOTE_ROOT } from '../../src/kube/layout.js'
import { PULL_ARGS, PUSH_ARGS } from '../../src/kube/sync-filters.js'
import type { Logger } from '../../src/logger.js'

const IMAGE = 'registry.k8s.io/build-image/kube-cross:v1.31.0-go1.19.8-bookworm.0'
const { values } = parseArgs({ options: { files: { type: 'string', default: '25000' } } })
const files = Number(values.files)
const repo = process.cwd()

const log: Logger = {
  info: () => {},
  warning: m => console.warn(m),
  debug: () => {},
  annotate: () => {},
  mask: () => {},
  group: (_t, fn) => fn()
}

/** Adds `count` small Go files under vendor/, 100 to a package, as a vendor tree has. */
async function addVendor(root: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const dir = join(root, 'vendor', `example.com/mod${Math.floor(i / 1000)}/pkg${Math.floor(i / 100)}`)
    if (i % 100 === 0) await mkdir(dir, { recursive: true })
    const body = `package pkg${Math.floor(i / 100)}\n\n// ${randomBytes(600).toString('base64')}\nconst C${i} = ${i}\n`
    await writeFile(join(dir, `file${i}.go`), body)
  }
}

const seconds = async (fn: () => Promise<unknown>): Promise<number> => {
  const started = performance.now()
  await fn()
  return (performance.now() - started) / 1000
}

const work = await mkdtemp(join(tmpdir(), 'kube-release-bench-sync-'))
const engine = await connectEngine(log, { cancel: new AbortController().signal, stallTimeoutMs: 300_000 })
const owner = { runId: `bench-${randomBytes(4).toString('hex')}`, treeHash: randomBytes(5).toString('hex') }
try {
  for (const [name, extra] of [
    ['fixture', 0],
    [`fixture + ${files} vendor files`, files]
  ] as const) {
    const root = join(work, name.replace(/\W+/g, '-'), 'kubernetes')
    execFileSync('bash', [join(repo, 'scripts/fixture-tree.sh'), root, 'v1.31.0'], { stdio: 'ignore' })
    await addVendor(root, extra)
    const binDir = join(root, '_output/dockerized/bin/linux/amd64')
    const volume = `kube-release-bench-sync-${owner.treeHash}-${extra}`
    await engine.volumes.ensure(volume, createLabels(owner, 'data'))
    const rsync = new VolumeRsync(
      engine.containers,
      {
        name: `kube-rsync-${owner.treeHash}-${owner.runId}`,
        image: IMAGE,
        volume,
        path: REMOTE_ROOT,
        user: null,
        labels: createLabels(owner, 'rsync'),
        verbosity: 0
      },
      log
    )
    const push = (): Promise<unknown> => rsync.push(`${root}/`, PUSH_ARGS)
    const cold = await seconds(push)
    const unchanged = await seconds(push)
    await appendFile(join(root, 'cmd/kubectl/kubectl.go'), '\n// touched by the benchmark\n')
    const oneChanged = await seconds(push)
    // 64 MiB of "binaries" to bring back, as a build would leave them in the volume.
    await mkdir(binDir, { recursive: true })
    await writeFile(join(binDir, 'kubectl'), randomBytes(64 * 1024 ** 2))
    await seconds(() => rsync.push(`${root}/`, [...PUSH_ARGS.filter(a => a !== '--filter=- /_output/')]))
    await rm(join(root, '_output'), { recursive: true })
    const pull = await seconds(() => rsync.pull(`${root}/`, PULL_ARGS))
    console.log(
      `${name}: push cold ${cold.toFixed(2)} s, unchanged ${unchanged.toFixed(2)} s, one file changed ` +
        `${oneChanged.toFixed(2)} s; pull of 64 MiB of binaries ${pull.toFixed(2)} s`
    )
  }
} finally {
  for (const volume of await engine.volumes.listLabelled(treeLabels(owner.treeHash, 'data'))) {
    await engine.volumes.remove(volume)
  }
  await rm(work, { recursive: true, force: true })
}
