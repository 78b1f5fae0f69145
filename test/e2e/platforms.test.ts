// A four-platform release build: every binary in its tarball, built for the right OS and CPU, server
// images for both linux architectures, and tarballs that Go's and Python's readers accept as well.
import { execFile } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startBaseImages, type BaseImages } from './base-images.js'
import { cleanTree, fixtureTree, gitDescribe, managedObjects, runCli, tarMembers } from './helpers.js'
import { checkRelease } from './release-check.js'

const run = promisify(execFile)
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64']
let tree: string
let bases: BaseImages

beforeAll(async () => {
  bases = await startBaseImages()
})
afterAll(async () => {
  if (tree) await cleanTree(tree)
  await bases?.close()
})

it('builds linux, darwin and windows tarballs in one run', async () => {
  tree = await fixtureTree('v1.31.2')
  const result = await runCli(
    [
      '--source',
      tree,
      '--mode',
      'release',
      '--run-tests',
      'false',
      '--platforms',
      PLATFORMS.join(','),
      ...bases.args
    ],
    bases.env
  )
  expect(result.code, result.stderr + result.stdout.slice(-3000)).toBe(0)
  await checkRelease(tree, { platforms: PLATFORMS, version: gitDescribe(tree), images: true, full: true })
  expect(managedObjects('containers', { tree })).toEqual([])
})

it('writes tarballs that Python and Go read as GNU tar does', async () => {
  const dir = join(tree, '_output/release-tars')
  const names = (await readdir(dir)).filter(n => n.endsWith('.tar.gz'))
  const python = 'import sys, tarfile\nfor n in tarfile.open(sys.argv[1]).getnames(): print(n.rstrip("/"))'
  const goProgram = [
    'package main',
    'import ("archive/tar"; "compress/gzip"; "fmt"; "io"; "os"; "strings")',
    'func main() {',
    '  f, _ := os.Open(os.Args[1]); z, err := gzip.NewReader(f); if err != nil { panic(err) }',
    '  t := tar.NewReader(z)',
    '  for { h, err := t.Next(); if err == io.EOF { return }; if err != nil { panic(err) }',
    '    if _, err := io.Copy(io.Discard, t); err != nil { panic(err) }',
    '    fmt.Println(strings.TrimSuffix(h.Name, "/")) } }'
  ].join('\n')
  const kubeCross = (
    await run('docker', [
      'images',
      '--format',
      '{{.Repository}}:{{.Tag}}',
      '--filter',
      'reference=*/*/kube-cross'
    ])
  ).stdout.split('\n')[0]
  const script = `mkdir /tmp/reader && cd /tmp/reader && printf '%s' "$PROGRAM" > main.go && go mod init reader >/dev/null 2>&1 && go build -o reader . && for n in "$@"; do echo "== $n"; ./reader "/tars/$n"; done`
  const { stdout: fromGo } = await run(
    'docker',
    [
      'run',
      '--rm',
      '-e',
      `PROGRAM=${goProgram}`,
      '-e',
      'GOFLAGS=-mod=mod',
      '-v',
      `${dir}:/tars:ro`,
      kubeCross,
      'bash',
      '-c',
      script,
      '_',
      ...names
    ],
    { maxBuffer: 64 * 1024 * 1024 }
  )
  const goLists = new Map(
    fromGo
      .split('== ')
      .filter(Boolean)
      .map(block => {
        const [name, ...members] = block.trim().split('\n')
        return [name, members] as const
      })
  )
  for (const name of names) {
    const gnu = (await tarMembers(join(dir, name))).map(m => m.path.replace(/\/$/, ''))
    const py = (await run('python3', ['-c', python, join(dir, name)], { maxBuffer: 64 * 1024 * 1024 })).stdout
      .trim()
      .split('\n')
    expect(py, `python: ${name}`).toEqual(gnu)
    // Go lists git archive's pax global header (the commit id) as an entry; the others apply it.
    expect(
      goLists.get(name)?.filter(n => n !== 'pax_global_header'),
      `go: ${name}`
    ).toEqual(gnu)
  }
})
