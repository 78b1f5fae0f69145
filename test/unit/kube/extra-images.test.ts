// What the conformance image is built from: the Makefile's variables as make sees them with
// ARCH, REGISTRY and VERSION set by build/lib/release.sh (kube-build-flow.md §3.5), and its context.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  conformanceBuildArgs,
  conformanceContext,
  conformanceImage,
  makeVariables
} from '../../../src/kube/extra-images.js'

let tree: string
beforeEach(async () => {
  tree = await mkdtemp(join(tmpdir(), 'kube-extra-images-'))
  await mkdir(join(tree, 'test/conformance/image/go-runner'), { recursive: true })
})
afterEach(async () => {
  await rm(tree, { recursive: true, force: true })
})

// Two generations of upstream's Makefile: a distroless RUNNERIMAGE and a BASEIMAGE, then debian-base only.
const OLDER = `KUBE_BASE_IMAGE_REGISTRY?=k8s.gcr.io
BASE_IMAGE_VERSION?=bullseye-v1.2.0
BASEIMAGE?=\${KUBE_BASE_IMAGE_REGISTRY}/build-image/debian-base-\${ARCH}:\${BASE_IMAGE_VERSION}
DISTROLESS_IMAGE?=base-debian11
RUNNERIMAGE?=gcr.io/distroless/\${DISTROLESS_IMAGE}:latest
TEMP_DIR:=$(shell mktemp -d -t conformance-XXXXXX)
build:
\tdocker buildx build --build-arg BASEIMAGE=$(BASEIMAGE) --build-arg RUNNERIMAGE=$(RUNNERIMAGE) $(TEMP_DIR)
`
const NEWER = `KUBE_BASE_IMAGE_REGISTRY?=registry.k8s.io
BASE_IMAGE_VERSION?=bookworm-v1.0.4
RUNNERIMAGE?=\${KUBE_BASE_IMAGE_REGISTRY}/build-image/debian-base-$(ARCH):\${BASE_IMAGE_VERSION}
build:
\tdocker buildx build --build-arg RUNNERIMAGE=$(RUNNERIMAGE) .
`

describe('conformanceBuildArgs', () => {
  const write = (text: string) => writeFile(join(tree, 'test/conformance/image/Makefile'), text)

  it('an older Makefile: RUNNERIMAGE and BASEIMAGE, ARCH filled in', async () => {
    await write(OLDER)
    expect(await conformanceBuildArgs(tree, 's390x', 'v1.31.0', {})).toEqual({
      RUNNERIMAGE: 'gcr.io/distroless/base-debian11:latest',
      BASEIMAGE: 'k8s.gcr.io/build-image/debian-base-s390x:bullseye-v1.2.0'
    })
  })

  it('a newer Makefile: only RUNNERIMAGE; the environment wins over ?= defaults', async () => {
    await write(NEWER)
    expect(await conformanceBuildArgs(tree, 'arm64', 'v1.31.0', {})).toEqual({
      RUNNERIMAGE: 'registry.k8s.io/build-image/debian-base-arm64:bookworm-v1.0.4'
    })
    expect(
      await conformanceBuildArgs(tree, 'arm64', 'v1.31.0', { KUBE_BASE_IMAGE_REGISTRY: 'mirror.example' })
    ).toEqual({
      RUNNERIMAGE: 'mirror.example/build-image/debian-base-arm64:bookworm-v1.0.4'
    })
    expect(await conformanceBuildArgs(tree, 'arm64', 'v1.31.0', { RUNNERIMAGE: 'mine:1' })).toEqual({
      RUNNERIMAGE: 'mine:1'
    })
  })

  it('a tree without the Makefile: an error saying how to do without the image', async () => {
    await expect(conformanceBuildArgs(tree, 'amd64', 'v1.31.0', {})).rejects.toThrow(
      /needs test\/conformance\/image\/Makefile.*conformance-image: false/
    )
  })
})

describe('makeVariables', () => {
  it('?= keeps what the environment gives, = and := replace it, later lines see earlier ones', () => {
    const vars = makeVariables('A?=a\nB=b-$(A)\nC:=${B}-c\nD?=d\n', { A: 'env', B: 'env', D: 'env' })
    expect(Object.fromEntries([...vars].filter(([k]) => 'ABCD'.includes(k)))).toEqual({
      A: 'env',
      B: 'b-env',
      C: 'b-env-c',
      D: 'env'
    })
  })
})

describe('conformanceContext and conformanceImage', () => {
  it('the directory (no dot files), the four binaries (gorunner from go-runner, a+rx) and cluster/', async () => {
    await writeFile(join(tree, 'test/conformance/image/Dockerfile'), 'FROM x\n')
    await writeFile(join(tree, 'test/conformance/image/.hidden'), '')
    const context = await conformanceContext(tree, '/bin/linux/amd64')
    expect(Object.fromEntries(context)).toEqual({
      Dockerfile: { path: join(tree, 'test/conformance/image/Dockerfile') },
      'go-runner': { path: join(tree, 'test/conformance/image/go-runner') },
      ginkgo: { path: '/bin/linux/amd64/ginkgo', mode: 0o755 },
      kubectl: { path: '/bin/linux/amd64/kubectl', mode: 0o755 },
      'e2e.test': { path: '/bin/linux/amd64/e2e.test', mode: 0o755 },
      gorunner: { path: '/bin/linux/amd64/go-runner', mode: 0o755 },
      cluster: { path: join(tree, 'cluster') }
    })
    expect(conformanceImage('arm64', 'v1.31.0-beta.0.5+0123456789abcd')).toEqual({
      file: 'conformance-arm64.tar',
      tag: 'registry.k8s.io/conformance-arm64:v1.31.0-beta.0.5_0123456789abcd'
    })
  })
})
