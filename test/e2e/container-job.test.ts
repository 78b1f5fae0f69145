// A GitHub container job, as the runner makes one: the CLI runs in a container of the machine's
// engine with its socket mounted, the host's work directory mounted at another path (/__w), on a
// user-defined network. Both workspaces build; the build cache is saved; a tree outside every mount
// fails at once with the input to change; clean, run from the job, leaves nothing.
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, gitDescribe, runProcess, standInKubeCross, type Result } from './helpers.js'
import { checkRelease, engineArch } from './release-check.js'

const run = promisify(execFile)
const JOB = `kre-job-${randomBytes(4).toString('hex')}`
const LABEL = `io.kube-release-action.test=${JOB}`
const SOCKET = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '')
let work: string

/** The CLI in a job container: the host's `work` at /__w, the repository's dist and Node mounted in. */
function inJob(argv: string[], shell = false): Promise<Result> {
  const command = shell ? ['sh', '-c', argv.join(' ')] : ['/action/node', '/action/dist/cli.js', ...argv]
  return runProcess(
    [
      'docker',
      ...['run', '--rm', '--label', LABEL, '--network', JOB, '-w', '/__w'],
      ...['-v', `${SOCKET}:/var/run/docker.sock`, '-v', `${work}:/__w`],
      ...['-v', `${REPO_ROOT}/dist:/action/dist:ro`, '-v', `${process.execPath}:/action/node:ro`],
      ...['-e', 'HOME=/__w/home', '-e', 'DOCKER_HOST=unix:///var/run/docker.sock'],
      standInKubeCross(),
      ...command
    ],
    process.env
  )
}

const JOB_BUILD = ['--mode', 'quick-release', '--server-images', 'false', '--cache-dir', '/__w/cache']

beforeAll(async () => {
  if (process.env.KRA_ENGINE_SHARES_FILES === '0') return
  work = await mkdtemp(join(tmpdir(), 'kube-release-e2e-job-'))
  await mkdir(join(work, 'home'))
  for (const name of ['bind', 'volume']) {
    await run('bash', [join(REPO_ROOT, 'scripts/fixture-tree.sh'), join(work, name, 'kubernetes'), 'v1.31.0'])
  }
  await run('docker', ['network', 'create', '--label', LABEL, JOB])
})

afterAll(async () => {
  if (!work) return
  for (const name of ['bind', 'volume']) await inJob(['clean', '--source', `/__w/${name}/kubernetes`])
  const left = await run('docker', ['ps', '-aq', '--filter', `label=${LABEL}`])
  if (left.stdout.trim()) await run('docker', ['rm', '-f', ...left.stdout.trim().split('\n')])
  await run('docker', ['network', 'rm', JOB]).catch(() => {})
  await rm(work, { recursive: true, force: true })
})

describe.skipIf(process.env.KRA_ENGINE_SHARES_FILES === '0')('a container job', () => {
  it.each(['bind', 'volume'])(
    'builds with the %s workspace, its tree at another path on the host, and saves the build cache',
    async workspace => {
      const tree = join(work, workspace, 'kubernetes')
      const result = await inJob([
        '--source',
        `/__w/${workspace}/kubernetes`,
        '--workspace',
        workspace,
        ...JOB_BUILD
      ])
      expect(result.code, result.stderr + result.stdout.slice(-3000)).toBe(0)
      expect(result.stdout).toMatch(
        new RegExp(`running in container ${JOB}|running in container \\S+ of this engine`)
      )
      if (workspace === 'bind') expect(result.stdout).toContain(`is ${tree} on the engine's host`)
      expect(result.stdout).toMatch(/build cache: saved/)
      expect((await readdir(join(work, 'cache'))).length).toBeGreaterThan(0)
      const version = gitDescribe(tree)
      await checkRelease(tree, { platforms: [`linux/${engineArch()}`], version, images: false, full: true })
    }
  )

  it('refuses a bind workspace for a tree in no mount, before any container starts', async () => {
    const result = await inJob(
      [
        'cp -a /__w/bind/kubernetes /tmp/kubernetes &&',
        '/action/node /action/dist/cli.js',
        '--source /tmp/kubernetes --workspace bind',
        ...JOB_BUILD
      ],
      true
    )
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /input 'workspace': the tree \/tmp\/kubernetes is in no directory mounted into this container/
    )
    expect(result.stderr).toContain('Use workspace: volume')
  })

  it('clean from the job removes what the runs kept, and no container is left', async () => {
    const cleaned = await inJob(['clean', '--source', '/__w/volume/kubernetes'])
    expect(cleaned.code, cleaned.stderr).toBe(0)
    expect(cleaned.stdout).toMatch(/removed 0 containers and 1 data volume of \/__w\/volume\/kubernetes/)
    // The job's runs label their objects with the tree as the job names it; kube-build images are
    // shared by trees and stay.
    const treeLabel = createHash('sha256').update('/__w/volume/kubernetes').digest('hex').slice(0, 10)
    for (const kind of ['ps -a', 'volume ls'] as const) {
      const listed = await run('docker', [
        ...kind.split(' '),
        '-q',
        '--filter',
        `label=io.kube-release-action.tree=${treeLabel}`
      ])
      expect(listed.stdout.trim(), kind).toBe('')
    }
    const jobs = await run('docker', ['ps', '-aq', '--filter', `label=${LABEL}`])
    expect(jobs.stdout.trim()).toBe('')
  })
})
