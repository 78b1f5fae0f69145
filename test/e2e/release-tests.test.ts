// make release with its tests, as upstream runs them (KUBE_RELEASE_RUN_TESTS): make test and make
// test-integration in the build container, the integration suite against the etcd of the stand-in
// kube-cross; a failing unit test (the fixture's opt-in one, build tag fixturefail) fails the run,
// names its package and is annotated on its file and line. Every run leaves git status as it found it.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runAction } from './action-runner.js'
import { cleanedFixtureTrees, runCli } from './helpers.js'
import { engineArch } from './release-check.js'

const FAILING_TEST = 'pkg/util/platform/platform_fail_test.go'
const FAILING_GOFLAGS = { GOFLAGS: '-tags=fixturefail' }

const tree = cleanedFixtureTrees()

const gitStatus = (dir: string): string =>
  execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir, encoding: 'utf8' })

/** The line of the fixture's deliberate failure, read from the file. */
function failingLine(dir: string): number {
  const lines = readFileSync(join(dir, FAILING_TEST), 'utf8').split('\n')
  return lines.findIndex(l => l.includes('t.Errorf(')) + 1
}

describe('release with tests', () => {
  it('runs make test and make test-integration with etcd; the bind-mounted checkout is left as it was', async () => {
    const dir = await tree()
    const before = gitStatus(dir)
    const platform = `linux/${engineArch()}`
    const result = await runCli(
      ['--source', dir, '--mode', 'release', '--workspace', 'bind', '--targets', 'kubectl'],
      {
        KUBE_BUILD_PLATFORMS: platform
      }
    )
    expect(result.code, result.stderr + result.stdout.slice(-3000)).toBe(0)
    expect(result.stdout).toContain(`platforms: ${platform} (from KUBE_BUILD_PLATFORMS)`)
    expect(result.stdout).toContain(
      `build commands: make all WHAT=cmd/kubectl KUBE_BUILD_PLATFORMS=${platform} ; make test ; make test-integration`
    )
    expect(result.stdout).toMatch(/^ok\s+k8s\.io\/kubernetes\/pkg\/util\/platform\s/m)
    expect(result.stdout).toContain('Starting etcd instance')
    expect(result.stdout).toMatch(/^ok\s+k8s\.io\/kubernetes\/test\/integration\/version\s/m)
    expect(existsSync(join(dir, '.config'))).toBe(false)
    expect(gitStatus(dir)).toBe(before)
  })

  it('a failing unit test fails the run once, naming its package; the volume workspace leaves the checkout too', async () => {
    const dir = await tree()
    const before = gitStatus(dir)
    const result = await runCli(
      ['--source', dir, '--mode', 'release', '--platforms', 'host', '--targets', 'kubectl'],
      FAILING_GOFLAGS
    )
    expect(result.code).toBe(1)
    const message = "'make test' failed with exit code 2; tests failed in k8s.io/kubernetes/pkg/util/platform"
    expect(result.stderr).toContain(`kube-release: ${message}`)
    expect(`${result.stdout}${result.stderr}`.split(message)).toHaveLength(2)
    expect(result.stdout).not.toContain('running make test-integration')
    expect(gitStatus(dir)).toBe(before)
  })

  it('the action annotates the failing test on its file and line', async () => {
    const dir = await tree()
    const run = await runAction(dir, {
      inputs: { mode: 'release', platforms: 'host', targets: 'kubectl', workspace: 'bind' },
      env: FAILING_GOFLAGS
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(
      new RegExp(
        `^::error title=Go,file=kubernetes/${FAILING_TEST},line=${failingLine(dir)}::TestParseFixtureFailure: Parse\\("linux/amd64"\\) succeeded`,
        'm'
      )
    )
    expect(run.stdout).toMatch(
      /^::error::'make test' failed with exit code 2; tests failed in k8s\.io\/kubernetes\/pkg\/util\/platform/m
    )
  })
})
