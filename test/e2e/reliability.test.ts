// Cancellation, faults, isolation and bad input on the real engine: the run says what went wrong,
// stops promptly and leaves nothing of its own behind — and never touches what is not its own.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { startRegistry } from '../helpers/registry.js'
import { actionEnv, fileCommands } from './action-runner.js'
import {
  CLI_CACHE_HOME,
  REPO_ROOT,
  cleanTree,
  fixtureTree,
  gitDescribe,
  managedObjects,
  runCli,
  standInKubeCross
} from './helpers.js'
import { startPrivateEngine } from './private-engine.js'
import { checkRelease, engineArch } from './release-check.js'

const run = promisify(execFile)
const trees: string[] = []
afterAll(async () => {
  for (const tree of trees) await cleanTree(tree)
})

async function tree(tag = 'v1.31.0'): Promise<string> {
  const dir = await fixtureTree(tag)
  trees.push(dir)
  return dir
}

/** Processes a test started; one still running when its test ends is killed (its build with it). */
const running = new Set<ChildProcess>()
afterEach(() => {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
})

/** A process whose output is collected as it comes, so a test can wait for a line. */
function background(argv: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT) {
  const child: ChildProcess = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  child.on('close', () => running.delete(child))
  let output = ''
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()))
  const exited = new Promise<number | null>(resolve => child.on('close', code => resolve(code)))
  return { child, exited, output: () => output }
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, seconds = 120): Promise<void> {
  for (let i = 0; i < seconds * 4; i++) {
    if (await check()) return
    await sleep(250)
  }
  throw new Error(`timed out waiting for ${what}`)
}

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  background([process.execPath, join(REPO_ROOT, 'dist/cli.js'), ...args], {
    ...process.env,
    XDG_CACHE_HOME: CLI_CACHE_HOME,
    ...env
  })

/** The machine's dockerd, which no test here may stop: the pid in its pid file, when it is alive. */
async function dockerdPid(): Promise<number> {
  const pid = Number((await readFile('/var/run/docker.pid', 'utf8')).trim())
  process.kill(pid, 0)
  return pid
}

const FOUR_PLATFORMS = 'linux/amd64,linux/arm64,darwin/arm64,windows/amd64'

describe('cancellation', () => {
  // The runner's cancel: SIGINT, then SIGTERM 7.5 s later. Either alone must do the whole job.
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143]
  ] as const)(
    'on %s stops the build, removes its containers within 5 s and exits %i; post finds nothing left',
    async (signal, exitCode) => {
      const dir = await tree()
      const env = await actionEnv(dir, {
        inputs: { mode: 'release', 'run-tests': 'false', platforms: FOUR_PLATFORMS, 'server-images': 'false' }
      })
      const main = background([process.execPath, join(REPO_ROOT, 'dist/index.js')], env, dirname(dir))
      await waitFor('the build to start', () => main.output().includes('+++ running make cross'))
      const runId = fileCommands(await readFile(env.GITHUB_STATE!, 'utf8'))['run-id']
      await waitFor(
        'the build container',
        () => managedObjects('containers', { run: runId, role: 'build' }).length > 0
      )

      main.child.kill(signal)
      const signalled = Date.now()
      await waitFor(
        'the containers to go',
        () => managedObjects('containers', { run: runId }).length === 0,
        10
      )
      expect(Date.now() - signalled).toBeLessThanOrEqual(5000)
      expect(await main.exited).toBe(exitCode)
      expect(main.output()).toContain(`${signal}: stopping the build and removing its containers`)
      expect(managedObjects('containers', { run: runId })).toEqual([])

      const post = background([process.execPath, join(REPO_ROOT, 'dist/index.js')], {
        ...env,
        STATE_isPost: 'true',
        'STATE_run-id': runId
      })
      expect(await post.exited).toBe(0)
      // The post step never fails the job: what it says is the test.
      expect(post.output()).not.toContain('::warning::')
      expect(post.output()).not.toMatch(/removed \d+ container/)
    }
  )
})

describe('isolation', () => {
  it('two runs at once on two checkouts both succeed, and a container not ours survives', async () => {
    const { stdout: foreign } = await run('docker', [
      'create',
      '--name',
      `not-ours-${process.pid}`,
      standInKubeCross(),
      'true'
    ])
    try {
      const [a, b] = [await tree('v1.31.0'), await tree('v1.31.1')]
      const runs = [a, b].map(dir =>
        cli(['--source', dir, '--mode', 'quick-release', '--server-images', 'false'])
      )
      const codes = await Promise.all(runs.map(r => r.exited))
      expect(codes, runs.map(r => r.output().slice(-2000)).join('\n----\n')).toEqual([0, 0])
      for (const dir of [a, b]) {
        await checkRelease(dir, {
          platforms: [`linux/${engineArch()}`],
          version: gitDescribe(dir),
          images: false,
          full: true
        })
        expect(managedObjects('containers', { tree: dir })).toEqual([])
      }
      const { stdout } = await run('docker', ['inspect', '--format', '{{.State.Status}}', foreign.trim()])
      expect(stdout.trim()).toBe('created')
    } finally {
      await run('docker', ['rm', '-f', foreign.trim()])
    }
  })
})

describe('faults', () => {
  it('a build container killed from outside fails the run with a message that says so', async () => {
    const dir = await tree()
    const build = cli([
      '--source',
      dir,
      '--platforms',
      FOUR_PLATFORMS,
      '--run-tests',
      'false',
      '--server-images',
      'false'
    ])
    // Only this tree's build container, by every label its builds carry.
    const ours = () => managedObjects('containers', { tree: dir, role: 'build' })
    await waitFor(
      'the build container',
      () => build.output().includes('+++ running make cross') && ours().length > 0
    )
    const containers = ours()
    expect(containers).toHaveLength(1)
    await run('docker', ['kill', containers[0]])
    expect(await build.exited).toBe(1)
    expect(build.output()).toMatch(/'make cross' was killed \(exit code 137, SIGKILL\)/)
    expect(managedObjects('containers', { tree: dir })).toEqual([])
  })

  it('a full disk while packaging is a clear error and leaves no tarball that looks complete', async () => {
    const dir = await tree()
    const small = await mkdtemp(join(tmpdir(), 'kube-release-tmpfs-'))
    await run('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', small])
    try {
      const result = await runCli([
        '--source',
        dir,
        '--mode',
        'quick-release',
        '--server-images',
        'false',
        '--output-dir',
        small
      ])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/no space left on the device of .* while writing the release/)
      const tars = join(small, 'release-tars')
      const names = await readdir(tars).catch(() => [] as string[])
      expect(names.filter(n => n.endsWith('.partial'))).toEqual([])
      for (const name of names.filter(n => n.endsWith('.tar.gz'))) await run('gzip', ['-t', join(tars, name)])
      expect(managedObjects('containers', { tree: dir })).toEqual([])
    } finally {
      await run('umount', [small])
      await rm(small, { recursive: true, force: true })
    }
  })

  it('a stalled image pull fails with a message instead of hanging', async () => {
    const dir = await tree()
    const registry = await startRegistry()
    try {
      await registry.push('stalled/kube-cross', 'v1', [
        { os: 'linux', arch: engineArch(), files: [{ path: 'etc/x', content: 'x' }] }
      ])
      registry.stallBlobs(true)
      const pull = cli(
        [
          '--source',
          dir,
          '--mode',
          'quick-release',
          '--kube-cross-image',
          `${registry.host}/stalled/kube-cross:v1`
        ],
        {
          KUBE_RELEASE_STALL_TIMEOUT: '3'
        }
      )
      expect(await pull.exited).toBe(1)
      expect(pull.output()).toMatch(
        /pulling .*stalled\/kube-cross:v1 stalled: the engine reported no progress for 3 s/
      )
      expect(managedObjects('containers', { tree: dir })).toEqual([])
    } finally {
      await registry.close()
    }
  })

  it.each([
    ['unix:///nonexistent/docker.sock', /There is no socket there: is dockerd installed and running\?/],
    ['tcp://127.0.0.1:1', /Nothing accepts connections there: is dockerd running and listening\?/],
    ['tcp://no-such-host.invalid:2375', /The host name does not resolve/]
  ])('an unreachable engine (DOCKER_HOST=%s) is one clear message', async (host, hint) => {
    const dir = await tree()
    const result = await runCli(['--source', dir, '--mode', 'quick-release'], { DOCKER_HOST: host })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      new RegExp(`cannot reach the Docker engine at ${host.replace(/[/.:]/g, '\\$&')}`)
    )
    expect(result.stderr).toMatch(hint)
  })

  it('the engine stopping mid-build fails the run promptly with a clear message', async () => {
    // An engine of this test's own: stopping the machine's would stop every other user's builds.
    const engine = await startPrivateEngine([standInKubeCross()])
    try {
      const machineEngine = await dockerdPid()
      const dir = await tree()
      const build = cli(
        ['--source', dir, '--platforms', FOUR_PLATFORMS, '--run-tests', 'false', '--server-images', 'false'],
        { DOCKER_HOST: engine.host }
      )
      await waitFor(
        'the build container',
        () =>
          build.output().includes('+++ running make cross') &&
          managedObjects('containers', { tree: dir, role: 'build' }, engine.host).length > 0
      )
      await engine.stop()
      expect(await Promise.race([build.exited, sleep(60_000).then(() => 'still running')])).toBe(1)
      expect(build.output()).toMatch(/the Docker engine went away while running 'make cross'/)
      expect(await dockerdPid()).toBe(machineEngine)

      // What the lost engine kept of the tree is removed by clean once the engine is back.
      await engine.start()
      expect(managedObjects('volumes', { tree: dir }, engine.host)).not.toEqual([])
      // The engine is this test's own: its kube-build image may go too.
      const clean = await runCli(['clean', '--images', '--source', dir], { DOCKER_HOST: engine.host })
      expect(clean.code, clean.stderr).toBe(0)
      for (const kind of ['containers', 'volumes', 'images'] as const) {
        expect(managedObjects(kind, { tree: dir }, engine.host)).toEqual([])
      }
    } finally {
      await engine.remove()
    }
  })
})

describe('bad input', () => {
  const huge = Array.from({ length: 5_000 }, (_, i) => `linux/arch${i}`).join(',')
  const cases: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    ['unknown mode', ['--mode', 'fast'], {}, /input 'mode': 'fast' is not one of release, quick-release/],
    ['mode with a newline', ['--mode', 'release\nquick-release'], {}, /input 'mode'/],
    ['mode with shell syntax', ['--mode', 'release; rm -rf /'], {}, /input 'mode'/],
    ['unknown workspace', ['--workspace', 'tmpfs'], {}, /input 'workspace'/],
    ['workspace with $()', ['--workspace', '$(id)'], {}, /input 'workspace'/],
    ['malformed platform', ['--platforms', 'linux'], {}, /input 'platforms': malformed platform 'linux'/],
    [
      'unsupported platform',
      ['--platforms', 'linux/mips'],
      {},
      /input 'platforms': unsupported platform 'linux\/mips'/
    ],
    ['platform with backticks', ['--platforms', 'linux/`id`'], {}, /input 'platforms': malformed/],
    [
      'platform with a newline and shell',
      ['--platforms', 'linux/amd64\n;reboot'],
      {},
      /input 'platforms': malformed platform ';reboot'/
    ],
    ['five thousand platforms', ['--platforms', huge], {}, /input 'platforms': .* and 4995 more/],
    ['unknown target', ['--targets', 'kube-foo'], {}, /input 'targets': unknown target 'kube-foo'/],
    ['target with ..', ['--targets', '../../cmd/kubectl'], {}, /input 'targets': unknown target/],
    ['target with shell', ['--targets', 'kubectl;id'], {}, /input 'targets': unknown target 'kubectl;id'/],
    [
      '100 KiB of targets',
      ['--targets', 'x'.repeat(100 * 1024)],
      {},
      /input 'targets': unknown target 'x{80}…'/
    ],
    ['run-tests not a boolean', ['--run-tests', 'yes'], {}, /input 'run-tests': 'yes' is not a boolean/],
    ['server-images not a boolean', ['--server-images', 'on'], {}, /input 'server-images'/],
    ['verbose out of range', ['--verbose', '11'], {}, /input 'verbose'/],
    ['kube-cross-image with shell', ['--kube-cross-image', 'kube-cross;id'], {}, /input 'kube-cross-image'/],
    ['kube-cross-image with a newline', ['--kube-cross-image', 'a/b\nc'], {}, /input 'kube-cross-image'/],
    ['go-runner-image with $()', ['--go-runner-image', 'reg/$(id):v1'], {}, /input 'go-runner-image'/],
    [
      'kube-proxy-base-image empty tag',
      ['--kube-proxy-base-image', 'reg/x:'],
      {},
      /input 'kube-proxy-base-image'/
    ],
    ['output-dir with $()', ['--output-dir', '$(id)'], {}, /input 'output-dir'/],
    ['output-dir with a newline', ['--output-dir', 'out\nput'], {}, /input 'output-dir'/],
    [
      'stall timeout not a number',
      [],
      { KUBE_RELEASE_STALL_TIMEOUT: 'soon' },
      /KUBE_RELEASE_STALL_TIMEOUT must be a number/
    ]
  ]
  it.each(cases)('%s is refused before the engine is touched', async (_, args, env, message) => {
    const dir = await tree()
    const result = await runCli(['--source', dir, ...args], env)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stdout).not.toContain('Docker engine')
    expect(managedObjects('containers', { tree: dir })).toEqual([])
    expect(managedObjects('volumes', { tree: dir })).toEqual([])
  })

  /** A fixture copy changed by `change`; returns its path. */
  async function broken(change: (dir: string) => Promise<void>): Promise<string> {
    // Not a tree the action accepts, so nothing to clean afterwards.
    const dir = await fixtureTree()
    await change(dir)
    return dir
  }
  const sourceCases: [string, () => Promise<string>, RegExp][] = [
    [
      'a source that does not exist',
      async () => '/nonexistent/kubernetes',
      /does not exist or is not a directory/
    ],
    [
      'a source with .. that leads nowhere',
      async () => join(await tree(), '../../..', 'nope'),
      /does not exist/
    ],
    ['a source that is a file', async () => join(await tree(), 'README.md'), /is not a directory/],
    ['a source with shell syntax', async () => '$(id)', /does not exist/],
    [
      'a tree without build/',
      () => broken(d => rm(join(d, 'build'), { recursive: true })),
      /build\/build-image\/cross\/VERSION is missing/
    ],
    [
      'an empty cross VERSION',
      () => broken(d => writeFile(join(d, 'build/build-image/cross/VERSION'), '\n')),
      /cross\/VERSION is missing or empty/
    ],
    [
      'a malformed cross VERSION',
      () => broken(d => writeFile(join(d, 'build/build-image/cross/VERSION'), 'v1 $(id)\n')),
      /holds 'v1 \$\(id\)', which is not an image tag/
    ],
    [
      'a malformed build-image VERSION',
      () => broken(d => writeFile(join(d, 'build/build-image/VERSION'), '5;6\n')),
      /VERSION holds '5;6', which is not a version/
    ],
    [
      'a tree that is not a git checkout',
      () =>
        broken(async d => {
          await rm(join(d, '.git'), { recursive: true })
        }),
      /cannot compute the version .* set KUBE_GIT_VERSION/
    ]
  ]
  it.each(sourceCases)('%s is refused, naming the input', async (_, make, message) => {
    const source = await make()
    const result = await runCli(['--source', source, '--mode', 'quick-release'])
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toMatch(/input 'source': /)
    expect(result.stderr).toMatch(message)
    expect(result.stdout).not.toContain('Docker engine')
  })
})
