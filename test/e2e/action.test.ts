// The bundled action run the way the runner runs it: INPUT_* variables, GITHUB_OUTPUT, GITHUB_STATE,
// GITHUB_STEP_SUMMARY, cwd = workspace; then the post step with the state main saved.
import { execFileSync } from 'node:child_process'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { CLIENT_BINARIES } from './expected.js'
import { runAction, runPost } from './action-runner.js'
import {
  cleanTree,
  fixtureTree,
  managedObjects,
  runLabelFlags,
  standInKubeCross,
  tarMembers
} from './helpers.js'
import { engineArch } from './release-check.js'

let tree: string
afterAll(async () => {
  if (tree) await cleanTree(tree)
})

it('sets outputs, writes the summary and cleans up in post', async () => {
  tree = await fixtureTree('v1.31.0')
  // Make the tree dirty: the version must say so.
  await writeFile(join(tree, 'README.md'), 'patched\n')
  const main = await runAction(tree, {
    inputs: {
      mode: 'quick-release',
      workspace: 'bind',
      targets: 'kubectl, kubectl-convert',
      'run-tests': 'true',
      // Upstream's OUT_DIR breaks make release; here it only moves release-tars.
      'output-dir': 'out',
      verbose: 'false'
    },
    env: { GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: '1' }
  })
  expect(main.code, main.stdout.slice(-3000)).toBe(0)
  expect(main.stdout).toContain('::group::build')
  expect(main.stdout).toMatch(/running make test-integration/)

  const { outputs, state } = main
  const describe = execFileSync('git', ['describe', '--tags'], { cwd: tree, encoding: 'utf8' }).trim()
  expect(outputs.version).toBe(`${describe}-dirty`)
  expect(outputs['release-dir']).toBe(join(tree, 'out/release-tars'))
  const tarballs = JSON.parse(outputs.tarballs) as { name: string; path: string; bytes: number }[]
  // Only client binaries were asked for: only the client tarball of the host platform.
  const host = `linux-${engineArch()}`
  expect(tarballs.map(t => t.name)).toEqual([`kubernetes-client-${host}.tar.gz`])
  for (const t of tarballs) expect((await stat(t.path)).size).toBe(t.bytes)
  const members = (await tarMembers(tarballs[0].path)).map(m => m.path).filter(p => !p.endsWith('/'))
  expect(members).toEqual(CLIENT_BINARIES.map(b => `kubernetes/client/bin/${b}`))

  const { summary } = main
  expect(summary).toContain(outputs.version)
  for (const stage of ['prereqs', 'image', 'workspace', 'build', 'output', 'package', 'publish']) {
    expect(summary).toMatch(new RegExp(`\\| ${stage} \\| [0-9.]+ s \\| ok \\|`))
  }
  for (const t of tarballs) expect(summary).toContain(`| ${t.name} |`)

  expect(state['run-id']).toMatch(/^4242-1-[0-9a-f]{8}$/)
  expect(managedObjects('containers', { tree })).toEqual([])

  // What a killed main step leaves: a container labelled as this run's build containers are. Beside
  // it, one of another run of the same tree, which the post step must leave alone.
  const runId = state['run-id']
  const otherRunId = `${runId}-other`
  const create = (run: string) =>
    execFileSync(
      'docker',
      ['create', ...runLabelFlags({ tree, run, role: 'build' }), standInKubeCross(), 'true'],
      { encoding: 'utf8' }
    ).trim()
  const leftover = create(runId)
  const otherRuns = create(otherRunId)
  try {
    expect(managedObjects('containers', { run: runId, tree, role: 'build' })).toHaveLength(1)
    // The post step sees the state as STATE_* variables.
    const post = await runPost(main)
    expect(post.code, post.stdout).toBe(0)
    expect(post.stdout).not.toContain('::error')
    expect(post.stdout).toContain(`removed 1 container of run ${runId}`)
    expect(containerExists(leftover)).toBe(false)
    expect(managedObjects('containers', { run: runId })).toEqual([])
    expect(containerExists(otherRuns)).toBe(true)
  } finally {
    for (const id of [leftover, otherRuns]) if (containerExists(id)) execFileSync('docker', ['rm', '-f', id])
  }
})

function containerExists(id: string): boolean {
  try {
    execFileSync('docker', ['container', 'inspect', id], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
