// The scale tree: the kube-tree fixture grown to a Kubernetes-sized tree at a chosen scale (16 ≈ a real
// release). Besides the fixture it holds a generated staging module (k8s.io/apimachinery) of API
// packages (the compile work) and data packages embedded into the commands (the binary sizes), a
// vendor/ of many small files, and a git history of generated data (the .git size), all made from
// keystreams named by what they are, so the same scale gives the same bytes.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Writable } from 'node:stream'
import { generatedData, generatedText, keystream } from './data.js'
import {
  MODULE,
  allApisGo,
  apiPackage,
  blobGo,
  blobPackagePath,
  genericGo,
  linkGo,
  registryGo,
  type ApiShape
} from './go-sources.js'

/** Bumped whenever the generator's output changes: a tree made by another version is made again. */
export const GENERATOR_VERSION = 2

/** Where the scale trees go by default: outside any repository, kept between runs. */
export const DEFAULT_SCALE_DIR = '/var/tmp/kre-scale'
const STAGING = `staging/src/${MODULE}`
/** Each data package holds this much per unit of scale: 2 MiB at 16×. */
const BLOB_BYTES_PER_SCALE = 128 * 1024
const API_PACKAGES_PER_SCALE = 4
const API_SHAPE: ApiShape = { kinds: 24, tableEntries: 32 }
const VENDOR_FILES_PER_SCALE = 1500
const VENDOR_FILES_PER_PACKAGE = 100
const VENDOR_PACKAGES_PER_MODULE = 10
/** Commits before the tree's own, each rewriting a quarter of the data packages: 5 full revisions. */
const HISTORY_COMMITS = 20
const HISTORY_EPOCH = Date.UTC(2024, 0, 1) / 1000
const TAG = 'v1.31.0'

/**
 * The commands that link generated data, with upstream's linux/amd64 size in MiB (v1.31). Each links
 * every API package (about CODE_MIB_AT_16 of code at 16×) and enough data packages for the rest, so
 * at 16× it is about upstream's size. The small ones (ginkgo, go-runner, mounter, kube-log-runner)
 * stay as the fixture has them.
 */
export const SIZED_COMMANDS: readonly { dir: string; pkg: string; mib: number }[] = [
  { dir: 'cmd/kube-apiserver', pkg: 'main', mib: 90 },
  { dir: 'cmd/kube-controller-manager', pkg: 'main', mib: 85 },
  { dir: 'cmd/kube-scheduler', pkg: 'main', mib: 60 },
  { dir: 'cmd/kube-proxy', pkg: 'main', mib: 55 },
  { dir: 'cmd/kubelet', pkg: 'main', mib: 75 },
  { dir: 'cmd/kubeadm', pkg: 'main', mib: 65 },
  { dir: 'cmd/kubectl', pkg: 'main', mib: 50 },
  { dir: 'cmd/kubectl-convert', pkg: 'main', mib: 50 },
  { dir: 'cmd/kubemark', pkg: 'main', mib: 80 },
  { dir: 'test/e2e', pkg: 'e2e', mib: 130 },
  { dir: 'test/e2e_node', pkg: 'e2e_node', mib: 130 },
  { dir: 'staging/src/k8s.io/kube-aggregator', pkg: 'main', mib: 60 },
  { dir: 'staging/src/k8s.io/apiextensions-apiserver', pkg: 'main', mib: 60 }
]
/** Measured: an API package adds about 0.48 MiB to a binary, 31 MiB for the 64 packages of 16×. */
const CODE_MIB_AT_16 = 32
const blobsOf = (mib: number): number => Math.round((mib - CODE_MIB_AT_16) / 2)
const BLOB_COUNT = Math.max(...SIZED_COMMANDS.map(c => blobsOf(c.mib)))

export interface ScaleTreeStats {
  readonly version: number
  readonly scale: number
  /** Files and bytes of the work tree, .git left out. */
  readonly files: number
  readonly bytes: number
  readonly vendorFiles: number
  readonly apiPackages: number
  /** Bytes each sized command embeds. */
  readonly embeddedBytes: Record<string, number>
  readonly gitBytes: number
  readonly commits: number
  readonly seconds: number
}

interface TreeFile {
  readonly path: string
  readonly data: Buffer | string
  readonly executable: boolean
}

const count = (perScale: number, scale: number): number => Math.max(1, Math.round(perScale * scale))
const blobBytes = (scale: number): number => Math.max(1024, Math.round(BLOB_BYTES_PER_SCALE * scale))

function blobData(index: number, scale: number, revision: string): Buffer {
  return generatedData(`blob/${index}/${revision}`, blobBytes(scale), true)
}

/** The fixture's files, as fixture-tree.sh copies them (no build outputs). */
async function fixtureFiles(fixture: string): Promise<TreeFile[]> {
  const entries = await readdir(fixture, { recursive: true, withFileTypes: true })
  const files: TreeFile[] = []
  for (const entry of entries) {
    if (!entry.isFile()) continue
    const full = join(entry.parentPath, entry.name)
    const path = full.slice(fixture.length + 1)
    if (/^_output|^\.dockerized-kube-version-defs/.test(path)) continue
    const { mode } = await stat(full)
    files.push({ path, data: await readFile(full), executable: (mode & 0o111) !== 0 })
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : 1))
}

/** go.mod requires and replaces the generated module; the staging commands' go.mod require it. */
function withGeneratedModule(file: TreeFile): TreeFile {
  const text = file.data.toString()
  if (file.path === 'go.mod') {
    const data = text
      .replace('require (\n', `require (\n\t${MODULE} v0.0.0\n`)
      .replace('replace (\n', `replace (\n\t${MODULE} => ./${STAGING}\n`)
    return { ...file, data }
  }
  if (SIZED_COMMANDS.some(c => file.path === `${c.dir}/go.mod`)) {
    return { ...file, data: `${text.trimEnd()}\n\nrequire ${MODULE} v0.0.0\n` }
  }
  return file
}

function* generatedFiles(scale: number): Generator<TreeFile> {
  const file = (path: string, data: Buffer | string): TreeFile => ({ path, data, executable: false })
  const apis = count(API_PACKAGES_PER_SCALE, scale)
  yield file(`${STAGING}/go.mod`, `module ${MODULE}\n\ngo 1.19\n`)
  yield file(`${STAGING}/pkg/scale/registry/registry.go`, registryGo)
  yield file(`${STAGING}/pkg/scale/generic/generic.go`, genericGo)
  yield file(`${STAGING}/pkg/scale/apis/all/all.go`, allApisGo(apis))
  for (let i = 0; i < apis; i++) {
    for (const [path, text] of apiPackage(i, API_SHAPE)) yield file(`${STAGING}/${path}`, text)
  }
  for (let i = 0; i < BLOB_COUNT; i++) {
    yield file(`${STAGING}/${blobPackagePath(i)}/blob.go`, blobGo(i))
    yield file(`${STAGING}/${blobPackagePath(i)}/data.bin`, blobData(i, scale, 'current'))
  }
  for (const command of SIZED_COMMANDS) {
    yield file(`${command.dir}/zz_generated.scale.go`, linkGo(command.pkg, blobsOf(command.mib)))
  }
  const sizes = keystream('vendor/sizes')
  for (let i = 0; i < count(VENDOR_FILES_PER_SCALE, scale); i++) {
    const pkg = Math.floor(i / VENDOR_FILES_PER_PACKAGE)
    const module = Math.floor(pkg / VENDOR_PACKAGES_PER_MODULE)
    const bytes = 1024 + (sizes(2).readUInt16LE(0) % 4096)
    yield file(
      `vendor/github.com/scale-vendor/m${module}/p${pkg}/file${i}.go`,
      `// Code vendored for the scale tree.\n\npackage p${pkg}\n\n/*\n${generatedText(`vendor/${i}`, bytes)}\n*/\n`
    )
  }
}

/** Writes fast-import commands with back-pressure. */
class FastImport {
  private mark = 0
  constructor(private readonly input: Writable) {}

  async write(chunk: Buffer | string): Promise<void> {
    if (!this.input.write(chunk)) await once(this.input, 'drain')
  }

  async data(bytes: Buffer | string): Promise<void> {
    await this.write(`data ${Buffer.byteLength(bytes)}\n`)
    await this.write(bytes)
    await this.write('\n')
  }

  async commit(
    seconds: number,
    message: string,
    files: Iterable<TreeFile>,
    replaceAll: boolean
  ): Promise<void> {
    const who = `Scale Tree <scale@example.com> ${seconds} +0000`
    await this.write(`commit refs/heads/master\nmark :${++this.mark}\nauthor ${who}\ncommitter ${who}\n`)
    await this.data(message)
    if (replaceAll) await this.write('deleteall\n')
    for (const f of files) {
      await this.write(`M ${f.executable ? '100755' : '100644'} inline ${f.path}\n`)
      await this.data(f.data)
    }
  }
}

const git = (cwd: string, args: string[]): ReturnType<typeof spawn> =>
  spawn(
    'git',
    [
      '-C',
      cwd,
      ...['-c', `safe.directory=${cwd}`, '-c', 'init.defaultBranch=master', '-c', 'core.compression=1'],
      ...args
    ],
    {
      env: {
        ...process.env,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null'
      },
      stdio: ['pipe', 'ignore', 'inherit']
    }
  )

async function runGit(
  cwd: string,
  args: string[],
  input?: (stdin: Writable) => Promise<void>
): Promise<void> {
  const child = git(cwd, args)
  const exited = once(child, 'close')
  if (input) await input(child.stdin!)
  child.stdin!.end()
  const [code] = (await exited) as [number | null]
  if (code !== 0) throw new Error(`git ${args[0]} exited with ${code}`)
}

async function directoryBytes(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0
  let bytes = 0
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    files++
    bytes += (await stat(join(entry.parentPath, entry.name))).size
  }
  return { files, bytes }
}

/**
 * Makes the tree of `scale` at `root` (which must not exist), from the fixture at `fixture`: files
 * written as they are streamed into git fast-import, after the history; the work tree is clean.
 */
export async function generateScaleTree(
  fixture: string,
  root: string,
  scale: number
): Promise<Omit<ScaleTreeStats, 'seconds'>> {
  await mkdir(root, { recursive: true })
  await runGit(root, ['init', '-q'])
  const tree: TreeFile[] = [
    ...(await fixtureFiles(fixture)).map(withGeneratedModule),
    ...generatedFiles(scale)
  ]
  await runGit(root, ['fast-import', '--quiet', '--done'], async stdin => {
    const stream = new FastImport(stdin)
    for (let c = 0; c < HISTORY_COMMITS; c++) {
      const blobs = function* (): Generator<TreeFile> {
        for (let i = c % 4; i < BLOB_COUNT; i += 4) {
          const data = blobData(i, scale, `history-${c}`)
          yield { path: `${STAGING}/${blobPackagePath(i)}/data.bin`, data, executable: false }
        }
      }
      const seconds = HISTORY_EPOCH - (HISTORY_COMMITS - c) * 86400
      await stream.commit(seconds, `Regenerate data packages (revision ${c})\n`, blobs(), false)
    }
    await stream.commit(HISTORY_EPOCH, 'kube-tree fixture at scale\n', tree, true)
    for (const f of tree) {
      await mkdir(dirname(join(root, f.path)), { recursive: true })
      await writeFile(join(root, f.path), f.data, { mode: f.executable ? 0o755 : 0o644 })
    }
    await stream.write(
      `tag ${TAG}\nfrom refs/heads/master\ntagger Scale Tree <scale@example.com> ${HISTORY_EPOCH} +0000\n`
    )
    await stream.data(`Kubernetes ${TAG} (scale tree)\n`)
    await stream.write('done\n')
  })
  // The index, from HEAD and the files just written: a clean work tree for the version script.
  await runGit(root, ['reset', '-q'])
  const work = await directoryBytes(root)
  const gitDir = await directoryBytes(join(root, '.git'))
  return {
    version: GENERATOR_VERSION,
    scale,
    files: work.files - gitDir.files,
    bytes: work.bytes - gitDir.bytes,
    vendorFiles: count(VENDOR_FILES_PER_SCALE, scale),
    apiPackages: count(API_PACKAGES_PER_SCALE, scale),
    embeddedBytes: Object.fromEntries(SIZED_COMMANDS.map(c => [c.dir, blobsOf(c.mib) * blobBytes(scale)])),
    gitBytes: gitDir.bytes,
    commits: HISTORY_COMMITS + 1
  }
}

/**
 * The tree of `scale` under `out` (out/kubernetes), made unless out/scale-tree.json says this
 * version made it at this scale; returns its path and stats.
 */
export async function ensureScaleTree(
  fixture: string,
  out: string,
  scale: number
): Promise<{ root: string; stats: ScaleTreeStats; reused: boolean }> {
  const root = join(out, 'kubernetes')
  const stampPath = join(out, 'scale-tree.json')
  const stamp = await readFile(stampPath, 'utf8')
    .then(text => JSON.parse(text) as ScaleTreeStats)
    .catch(() => null)
  if (stamp?.version === GENERATOR_VERSION && stamp.scale === scale)
    return { root, stats: stamp, reused: true }
  await rm(out, { recursive: true, force: true })
  const started = performance.now()
  const made = await generateScaleTree(fixture, root, scale)
  const stats = { ...made, seconds: (performance.now() - started) / 1000 }
  await writeFile(stampPath, `${JSON.stringify(stats, null, 2)}\n`)
  return { root, stats, reused: false }
}
