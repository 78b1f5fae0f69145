// Runs a TypeScript benchmark from scripts/bench/ against src/: bundles it (esbuild) into a temp
// file and imports it. Usage: node scripts/bench.mjs scripts/bench/<name>.ts [args…]
import { build } from 'esbuild'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [entry, ...args] = process.argv.slice(2)
if (!entry) throw new Error('usage: node scripts/bench.mjs scripts/bench/<name>.ts [args…]')
const dir = await mkdtemp(join(tmpdir(), 'kube-release-bench-'))
try {
  const outfile = join(dir, 'bench.mjs')
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    packages: 'external',
    logLevel: 'warning'
  })
  process.argv = [process.argv[0], outfile, ...args]
  await import(pathToFileURL(outfile).href)
} finally {
  await rm(dir, { recursive: true, force: true })
}
