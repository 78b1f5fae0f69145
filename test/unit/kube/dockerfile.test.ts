// Reading the tree's simple Dockerfiles into image recipes: the instructions BuildKit would apply,
// with Docker's variable scoping (an ARG before FROM is not seen after it unless declared again), and
// a clear refusal, naming the file, line and instruction, of anything that would need code run.
import { describe, expect, it } from 'vitest'
import { expandVariables, interpretDockerfile } from '../../../src/kube/dockerfile.js'

const linux = { path: 'test/conformance/image/Dockerfile', buildArgs: {}, platform: 'linux/arm64' }

describe('interpretDockerfile', () => {
  it('the conformance Dockerfile: base from the build argument, COPY into a directory or to a name, ENV, ENTRYPOINT', () => {
    const recipe = interpretDockerfile(
      [
        'ARG RUNNERIMAGE',
        'FROM ${RUNNERIMAGE}',
        'COPY cluster /kubernetes/cluster',
        'COPY ginkgo e2e.test /usr/local/bin/',
        'ENV E2E_FOCUS="\\[Conformance\\]" E2E_SKIP=""',
        'ENTRYPOINT [ "kubeconformance" ]'
      ].join('\n'),
      {
        ...linux,
        buildArgs: { RUNNERIMAGE: 'registry.k8s.io/build-image/debian-base-arm64:bookworm-v1.0.4' }
      }
    )
    expect(recipe).toEqual({
      base: 'registry.k8s.io/build-image/debian-base-arm64:bookworm-v1.0.4',
      steps: [
        {
          kind: 'copy',
          instruction: 'COPY cluster /kubernetes/cluster',
          sources: ['cluster'],
          dest: '/kubernetes/cluster',
          mode: undefined,
          refuseArchives: false
        },
        {
          kind: 'copy',
          instruction: 'COPY ginkgo e2e.test /usr/local/bin/',
          sources: ['ginkgo', 'e2e.test'],
          dest: '/usr/local/bin/',
          mode: undefined,
          refuseArchives: false
        },
        {
          kind: 'config',
          instruction: 'ENV E2E_FOCUS="\\[Conformance\\]" E2E_SKIP=""',
          change: {
            env: [
              ['E2E_FOCUS', '\\[Conformance\\]'],
              ['E2E_SKIP', '']
            ]
          }
        },
        {
          kind: 'config',
          instruction: 'ENTRYPOINT [ "kubeconformance" ]',
          change: { entrypoint: ['kubeconformance'] }
        }
      ]
    })
  })

  it('a Windows Dockerfile: Windows paths made image paths, the build argument declared after FROM, backslashes kept in ENV', () => {
    const recipe = interpretDockerfile(
      [
        'ARG BASEIMAGE',
        'FROM $BASEIMAGE',
        'ARG BINARY',
        'ENV PATH="C:\\Windows\\system32;C:\\Windows;"',
        'WORKDIR C:\\hpc',
        'COPY ${BINARY} kube-proxy/${BINARY}',
        'CMD kube-proxy.exe --version'
      ].join('\n'),
      {
        path: 'Dockerfile_windows',
        buildArgs: { BASEIMAGE: 'hpc:v1', BINARY: 'kube-proxy.exe' },
        platform: 'windows/amd64'
      }
    )
    expect(recipe.base).toBe('hpc:v1')
    expect(recipe.steps.map(s => (s.kind === 'copy' ? s.dest : s.change))).toEqual([
      { env: [['PATH', 'C:\\Windows\\system32;C:\\Windows;']] },
      { workingDir: '/hpc' },
      '/hpc/kube-proxy/kube-proxy.exe',
      { cmd: ['cmd', '/S', '/C', 'kube-proxy.exe --version'] }
    ])
  })

  it('variables: ENV over ARG, defaults, TARGETARCH when declared, ${x:-y} and ${x:+y}', () => {
    const recipe = interpretDockerfile(
      [
        'ARG REGISTRY=registry.k8s.io',
        'FROM ${REGISTRY}/base:1',
        'ARG TARGETARCH',
        'ARG NAME=tool',
        'ENV NAME=${NAME}-${TARGETARCH}',
        'LABEL a=${UNSET:-fallback} b=${NAME:+set}',
        'COPY ${NAME} /opt/'
      ].join('\n'),
      linux
    )
    expect(recipe.base).toBe('registry.k8s.io/base:1')
    expect(recipe.steps).toMatchObject([
      { change: { env: [['NAME', 'tool-arm64']] } },
      { change: { labels: { a: 'fallback', b: 'set' } } },
      { sources: ['tool-arm64'], dest: '/opt/' }
    ])
  })

  it.each([
    [
      'FROM base:1\nRUN setcap cap_net_bind_service=+ep /x',
      2,
      /RUN runs code for linux\/arm64, which needs buildx or emulation/
    ],
    ['FROM a:1 AS one\nFROM b:1\nCOPY --from=one /x /x', 2, /a second stage needs a multi-stage build/],
    ['FROM --platform=linux/amd64 base:1', 1, /FROM --platform is not supported/],
    ['FROM base:1\nCOPY --chown=1:1 x /x', 2, /--chown is not supported/],
    ['FROM base:1\nADD https://example.com/x /x', 2, /a URL source needs the network/],
    ['FROM base:1\nCOPY *.sh /x/', 2, /wildcards are not supported/],
    ['FROM base:1\nHEALTHCHECK CMD true', 2, /HEALTHCHECK is not supported/],
    [
      'ARG BINARY\nFROM base:1\nCOPY ${BINARY} /x',
      3,
      /an ARG declared before FROM must be declared again after it/
    ],
    ['ARG IMAGE\nFROM ${IMAGE}', 2, /names no image/],
    ['COPY x /x', 1, /comes before FROM/]
  ])('refuses %j at line %i, naming the file and the instruction', (text, line, message) => {
    expect(() => interpretDockerfile(text, linux)).toThrow(message)
    expect(() => interpretDockerfile(text, linux)).toThrow(`test/conformance/image/Dockerfile:${line}: '`)
  })

  it('a Dockerfile without FROM is an error', () => {
    expect(() => interpretDockerfile('# nothing\n', linux)).toThrow(
      'test/conformance/image/Dockerfile has no FROM instruction'
    )
  })
})

describe('expandVariables', () => {
  const vars: Record<string, string> = { A: 'a', EMPTY: '' }
  const lookup = (name: string) => vars[name]
  it.each([
    ['$A/${A}', 'a/a'],
    ['\\$A', '$A'],
    ['${UNSET}x', 'x'],
    ['${EMPTY:-d} ${EMPTY-d} ${UNSET-d}', 'd  d'],
    ['${A:+s} ${EMPTY:+s} ${EMPTY+s}', 's  s']
  ])('%s → %s', (text, expected) => {
    expect(expandVariables(text, lookup)).toBe(expected)
  })
})
