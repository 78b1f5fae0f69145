import { describe, expect, it } from 'vitest'
import { parseGoDiagnostic } from '../../../src/report/annotations.js'

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
