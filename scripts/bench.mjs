// Runs a TypeScript benchmark from scripts/bench/ against src/: bundles it (esbuild) into a temp
// file and imports it. Usage: node scripts/bench.mjs scripts/bench/<name>.ts [args…]
import { build } from 'esbuild'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const [entry, ...args] = process.argv.slice(2)
if (!entry) throw new Error('usage: node scripts/bench.mjs scripts/bench/<name>.ts [args…]')
// Inside the repository, so that the bundle's external packages resolve from node_modules.
await mkdir('node_modules/.cache', { recursive: true })
const dir = await mkdtemp(join('node_modules/.cache', 'kube-release-bench-'))
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
  await import(pathToFileURL(resolve(outfile)).href)
} finally {
  await rm(dir, { recursive: true, force: true })
}
