// Shared by the e2e suites: fixture trees, running the bundled CLI and action, reading results.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { mkdtemp, open, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll } from 'vitest'
import { startResultsService, type ResultsService } from '../helpers/results-service.js'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const run = promisify(execFile)

export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** A fresh git copy of test/fixtures/kube-tree, tagged. */
export async function fixtureTree(tag = 'v1.31.0'): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'kube-release-e2e-')), 'kubernetes')
  await run('bash', [join(REPO_ROOT, 'scripts/fixture-tree.sh'), dir, tag])
  return dir
}

/** Runs a command to its end with the given environment; never throws on a non-zero exit. */
export function runProcess(argv: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', code => resolvePromise({ code: code ?? -1, stdout, stderr }))
  })
}

/**
 * Whether the engine sees this machine's files (false for a remote engine or a Docker-in-Docker
 * sidecar; scripts/engines.sh sets KRA_ENGINE_SHARES_FILES=0 for its engine that does not).
 */
export const ENGINE_SHARES_FILES = process.env.KRA_ENGINE_SHARES_FILES !== '0'
/** The workspaces the engine can build in: a bind mount needs the engine to see the tree. */
export const WORKSPACES = ENGINE_SHARES_FILES ? ['volume', 'bind'] : ['volume']

/** The CLI's cache directory for this test file, so that no run reads or fills the user's. */
export const CLI_CACHE_HOME = mkdtempSync(join(tmpdir(), 'kube-release-e2e-cache-'))

/** The bundled CLI, on the Node that runs the tests. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return runProcess([process.execPath, join(REPO_ROOT, 'dist/cli.js'), ...args], {
    ...process.env,
    XDG_CACHE_HOME: CLI_CACHE_HOME,
    ...env
  })
}

/** Which of the action's objects: those of one tree or one run, optionally of one role. */
export type Owner = ({ tree: string } | { run: string }) & { tree?: string; run?: string; role?: string }

const INSPECT = {
  containers: { list: ['ps', '-a', '-q'], inspect: ['container', 'inspect'], labels: '.Config.Labels' },
  volumes: { list: ['volume', 'ls', '-q'], inspect: ['volume', 'inspect'], labels: '.Labels' },
  images: { list: ['images', '-q'], inspect: ['image', 'inspect'], labels: '.Config.Labels' }
} as const

/**
 * Names of the engine's objects carrying every given label of this action (containers: running or
 * not; images: their tags, or their ID when untagged), on the test's engine or the one at `host`.
 * The engine's label filter is only a first cut (Podman 4 ORs several on volumes and matches none
 * with two on images): every label is checked here.
 */
export function managedObjects(
  kind: 'containers' | 'volumes' | 'images',
  owner: Owner,
  host?: string
): string[] {
  const labels: Record<string, string> = {
    'io.kube-release-action.managed': 'true',
    ...(owner.tree === undefined ? {} : { 'io.kube-release-action.tree': treeLabel(owner.tree) }),
    ...(owner.run === undefined ? {} : { 'io.kube-release-action.run': owner.run }),
    ...(owner.role === undefined ? {} : { 'io.kube-release-action.role': owner.role })
  }
  const docker = (args: string[]): string => {
    try {
      return execFileSync('docker', [...(host ? ['-H', host] : []), ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe']
      })
    } catch (err) {
      // An object removed between the list and the inspect: the others are still on stdout.
      const { stdout, stderr } = err as { stdout?: string; stderr?: string }
      if (args[1] === 'inspect' && stdout !== undefined && /no such/i.test(stderr ?? '')) return stdout
      throw err
    }
  }
  const { list, inspect, labels: labelsField } = INSPECT[kind]
  const ids = [
    ...new Set(
      docker([...list, '--filter', 'label=io.kube-release-action.managed=true'])
        .split('\n')
        .filter(Boolean)
    )
  ]
  if (ids.length === 0) return []
  const name =
    kind === 'images' ? '{{if .RepoTags}}{{join .RepoTags " "}}{{else}}{{.Id}}{{end}}' : '{{.Name}}'
  return docker([...inspect, '--format', `{{json ${labelsField}}}\t${name}`, ...ids])
    .split('\n')
    .filter(Boolean)
    .map(line => line.split('\t'))
    .filter(([json]) => {
      const found = JSON.parse(json) as Record<string, string> | null
      return Object.entries(labels).every(([key, value]) => found?.[key] === value)
    })
    .flatMap(([, names]) => names.split(' ').map(n => n.replace(/^\//, '')))
}

/** The labels a run puts on its containers (see src/docker/labels.ts), as `docker create` flags. */
export function runLabelFlags(owner: { tree: string; run: string; role: string }): string[] {
  return [
    'io.kube-release-action.managed=true',
    `io.kube-release-action.tree=${treeLabel(owner.tree)}`,
    `io.kube-release-action.run=${owner.run}`,
    `io.kube-release-action.role=${owner.role}`
  ].flatMap(label => ['--label', label])
}

/** The stand-in kube-cross image the global setup makes: the reference the fixture tree asks for. */
export function standInKubeCross(): string {
  const tag = readFileSync(
    join(REPO_ROOT, 'test/fixtures/kube-tree/build/build-image/cross/VERSION'),
    'utf8'
  ).trim()
  return `${process.env.KUBE_CROSS_IMAGE ?? 'registry.k8s.io/build-image/kube-cross'}:${tag}`
}

/** The tree label value: sha256 of the resolved tree path, 10 hex (computed here, not imported). */
function treeLabel(tree: string): string {
  return execFileSync('bash', ['-c', 'printf %s "$(realpath "$1")" | sha256sum | cut -c1-10', '_', tree], {
    encoding: 'utf8'
  }).trim()
}

/**
 * What an earlier test of the file made (a built tree, an image), for a test that reuses it: without
 * it, the test fails naming that test rather than on whatever the missing build breaks.
 */
export function dependsOn<T>(made: T | undefined, test: string, missing = 'did not build the tree'): T {
  if (made === undefined) throw new Error(`depends on '${test}', which ${missing}`)
  return made
}

/** Removes what the action keeps for a tree (volumes, kube-build images). */
export async function cleanTree(tree: string): Promise<void> {
  const result = await runCli(['clean', '--source', tree])
  if (result.code !== 0) throw new Error(`clean failed: ${result.stderr}`)
}

/** A maker of fresh fixture trees for one test file; what the action kept for them is cleaned after it. */
export function cleanedFixtureTrees(): () => Promise<string> {
  const trees: string[] = []
  afterAll(async () => {
    for (const tree of trees) await cleanTree(tree)
  })
  return async () => {
    const dir = await fixtureTree()
    trees.push(dir)
    return dir
  }
}

/** The local results service for one test file's runs: started before its tests, closed after them. */
export function resultsServiceOfFile(): () => ResultsService {
  let service: ResultsService | undefined
  beforeAll(async () => {
    service = await startResultsService()
  })
  afterAll(async () => {
    await service?.close()
  })
  return () => {
    if (!service) throw new Error('the results service did not start')
    return service
  }
}

/** Members of a .tar.gz as GNU tar lists them: path, numeric owner and mode. */
export async function tarMembers(path: string): Promise<{ path: string; owner: string; mode: string }[]> {
  const { stdout } = await run('tar', ['--numeric-owner', '-tvzf', path], { maxBuffer: 64 * 1024 * 1024 })
  return stdout
    .split('\n')
    .filter(Boolean)
    .map(line => {
      const fields = line.split(/\s+/)
      return { mode: fields[0], owner: fields[1], path: fields.slice(5).join(' ') }
    })
}

export async function extractTar(path: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kube-release-extract-'))
  await run('tar', ['-xzf', path, '-C', dir])
  return dir
}

export async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort()
}

/**
 * The os/arch a binary is for, read from its header: ELF e_machine, Mach-O cputype, PE machine.
 */
export async function binaryPlatform(path: string): Promise<string> {
  const file = await open(path, 'r')
  try {
    const head = Buffer.alloc(4096)
    await file.read(head, 0, head.length, 0)
    if (head.readUInt32BE(0) === 0x7f454c46) {
      const machine = head.readUInt16LE(18)
      const arch = { 0x3e: 'amd64', 0xb7: 'arm64', 0x03: '386', 0x28: 'arm', 0x16: 's390x', 0x15: 'ppc64le' }[
        machine
      ]
      return `linux/${arch ?? `elf-machine-${machine}`}`
    }
    if (head.readUInt32LE(0) === 0xfeedfacf) {
      const cpu = head.readUInt32LE(4)
      return `darwin/${cpu === 0x0100000c ? 'arm64' : cpu === 0x01000007 ? 'amd64' : `macho-cpu-${cpu}`}`
    }
    if (head.toString('latin1', 0, 2) === 'MZ') {
      const pe = head.readUInt32LE(0x3c)
      const machine = head.readUInt16LE(pe + 4)
      const arch = { 0x8664: 'amd64', 0xaa64: 'arm64', 0x14c: '386' }[machine]
      return `windows/${arch ?? `pe-machine-${machine}`}`
    }
    return 'unknown'
  } finally {
    await file.close()
  }
}

/** git describe of the tree, turned into the version upstream reports for a clean tagged tree. */
export function gitDescribe(tree: string): string {
  return execFileSync('git', ['describe', '--tags', '--match=v*'], { cwd: tree, encoding: 'utf8' }).trim()
}
