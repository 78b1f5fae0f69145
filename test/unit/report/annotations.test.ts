import { describe, expect, it } from 'vitest'
import {
  GoTestOutput,
  packageDirectories,
  parseGoDiagnostic,
  type GoTestDiagnostic
} from '../../../src/report/annotations.js'

describe('parseGoDiagnostic', () => {
  it.each([
    // go build, relative to the module root
    [
      'cmd/kubectl/kubectl.go:12:5: undefined: x',
      { path: 'cmd/kubectl/kubectl.go', line: 12, column: 5, message: 'undefined: x' }
    ],
    // absolute in the build container
    [
      '/go/src/k8s.io/kubernetes/pkg/a/b.go:3:1: syntax error: unexpected }',
      { path: 'pkg/a/b.go', line: 3, column: 1, message: 'syntax error: unexpected }' }
    ],
    // go vet, with its prefix and ./
    [
      'vet: ./pkg/util/x.go:40:2: unreachable code',
      { path: 'pkg/util/x.go', line: 40, column: 2, message: 'unreachable code' }
    ],
    // no column
    [
      'staging/src/k8s.io/api/types.go:7: bad',
      { path: 'staging/src/k8s.io/api/types.go', line: 7, message: 'bad' }
    ]
  ])('reads %j', (line, expected) => {
    expect(parseGoDiagnostic(line)).toEqual(expected)
  })

  it.each([
    '+++ [1129 18:30:23] Building go targets for linux/amd64',
    '/usr/local/go/src/runtime/proc.go:250: in the toolchain, not the tree',
    '../outside/x.go:1:1: escapes the tree',
    'make: *** [Makefile:16: cross] Error 2',
    'ok  \tk8s.io/kubernetes/pkg/util\t0.01s'
  ])('ignores %j', line => {
    expect(parseGoDiagnostic(line)).toBeNull()
  })
})

describe('GoTestOutput', () => {
  function read(lines: string[]): { output: GoTestOutput; done: GoTestDiagnostic[]; messages: number } {
    const output = new GoTestOutput()
    const done: GoTestDiagnostic[] = []
    let messages = 0
    for (const line of lines) {
      const result = output.line(line)
      done.push(...result.done)
      if (result.message) messages++
    }
    return { output, done, messages }
  }

  it('holds a failure until its package is named, then returns it with the package', () => {
    const output = new GoTestOutput()
    expect(output.line('--- FAIL: TestParseFails (0.00s)')).toEqual({ message: false, done: [] })
    expect(output.line('    platform_fail_test.go:12: Parse("x") = ok, want an error')).toEqual({
      message: true,
      done: []
    })
    expect(output.line('FAIL')).toEqual({ message: false, done: [] })
    expect(output.line('FAIL\tk8s.io/kubernetes/pkg/util/platform\t0.003s')).toEqual({
      message: false,
      done: [
        {
          importPath: 'k8s.io/kubernetes/pkg/util/platform',
          test: 'TestParseFails',
          file: 'platform_fail_test.go',
          line: 12,
          message: 'Parse("x") = ok, want an error'
        }
      ]
    })
    expect(output.failedPackages).toEqual(['k8s.io/kubernetes/pkg/util/platform'])
  })

  it('with -v: messages of passing tests are not failures; subtests count', () => {
    const { output, done } = read([
      '=== RUN   TestLog',
      '    x_test.go:5: just a log',
      '--- PASS: TestLog (0.00s)',
      '=== RUN   TestTable',
      '=== RUN   TestTable/case_1',
      '    table_test.go:20: wrong',
      '--- FAIL: TestTable (0.00s)',
      '    --- FAIL: TestTable/case_1 (0.00s)',
      'FAIL',
      'FAIL\tk8s.io/component-base/version\t0.002s',
      'ok  \tk8s.io/kubernetes/cmd/kubectl\t(cached)',
      '?   \tk8s.io/kubernetes/cmd/kube-proxy\t[no test files]'
    ])
    expect(done.map(d => `${d.importPath} ${d.test} ${d.file}:${d.line}`)).toEqual([
      'k8s.io/component-base/version TestTable/case_1 table_test.go:20'
    ])
    expect(output.failedPackages).toEqual(['k8s.io/component-base/version'])
  })

  it('a passing package drops what it printed; a package that did not build is named', () => {
    const { output, done } = read([
      '--- FAIL: TestX (0.00s)',
      '    a_test.go:3: never reported: the package passed',
      'ok  \tk8s.io/kubernetes/pkg/a\t0.001s',
      'FAIL\tk8s.io/kubernetes/pkg/b [build failed]'
    ])
    expect(done).toEqual([])
    expect(output.failedPackages).toEqual(['k8s.io/kubernetes/pkg/b'])
  })

  it('compiler lines and logs are not test messages', () => {
    const { messages } = read([
      'pkg/a/a_test.go:3:2: undefined: x',
      '+++ [0101 00:00:00] Running tests',
      '    no_test_running.go:1: before any test'
    ])
    expect(messages).toBe(0)
  })
})

describe('packageDirectories', () => {
  it.each([
    ['k8s.io/kubernetes/pkg/util/platform', ['pkg/util/platform']],
    ['k8s.io/kubernetes', ['']],
    [
      'k8s.io/component-base/version',
      ['staging/src/k8s.io/component-base/version', 'vendor/k8s.io/component-base/version']
    ]
  ])('%s → %j', (importPath, expected) => {
    expect(packageDirectories(importPath)).toEqual(expected)
  })
})
