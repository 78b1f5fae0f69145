// The e2e tests whose outcome depends on the engine, on every engine of the matrix
// (scripts/engines.sh): for each engine, start it, run the tests through DOCKER_HOST, list what they
// left on it, stop it; at the end, a table of times and results. Needs root (the engines do).
//
// Usage: node scripts/test-engines.mjs [NAME…]     (npm run test:engines [-- NAME…]; default: all)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const ENGINES_SH = join(REPO, 'scripts/engines.sh')

/**
 * The files, and in them the tests, whose outcome depends on the engine: not the GitHub-service ones,
 * nor the cache's size and save policies, which the client alone decides.
 */
const FILES = [
  'quick-release',
  'clean',
  'tree-clean',
  'cache',
  'reliability',
  'server-images',
  'piped-exec'
].map(name => `test/e2e/${name}.test.ts`)
/**
 * Names of describes, or of a describe and the start of its tests' names, as vitest joins them. Each
 * build costs minutes on 2 cores, so where two tests prove the same engine behaviour only one runs
 * here: the build cache's export and import through the API (the volume workspace; the bind one
 * moves the same archive), and the image cache's save and load (not a second run that loads it).
 */
const TESTS = [
  'quick-release',
  'clean and stale volumes, two trees',
  'clean of a tree',
  'build cache in a directory (CLI) > a fresh volume',
  'kube-cross image cache > saves an image',
  'cancellation',
  'server image archives',
  'exec sessions with piped streams'
]
const escape = text => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const TEST_NAMES = `(^|> )(${TESTS.map(escape).join('|')}) `

function sh(args, options = {}) {
  const result = spawnSync(args[0], args.slice(1), { cwd: REPO, encoding: 'utf8', ...options })
  if (result.error) throw result.error
  return result
}

function seconds(since) {
  return Math.round((Date.now() - since) / 1000)
}

/** `export K=V` lines of `engines.sh env NAME`, as an environment. */
function engineEnv(name) {
  const out = sh(['bash', ENGINES_SH, 'env', name])
  if (out.status !== 0) throw new Error(`engines.sh env ${name} failed: ${out.stderr}`)
  return Object.fromEntries(
    out.stdout
      .split('\n')
      .map(line => /^export ([A-Z_]+)=(.*)$/.exec(line))
      .filter(Boolean)
      .map(([, key, value]) => [key, value])
  )
}

/** The stand-in kube-cross image the engines are given, as scripts/stand-in-kube-cross.sh names it. */
function standInKubeCross() {
  const tag = readFileSync(
    join(REPO, 'test/fixtures/kube-tree/build/build-image/cross/VERSION'),
    'utf8'
  ).trim()
  return `${process.env.KUBE_CROSS_IMAGE ?? 'registry.k8s.io/build-image/kube-cross'}:${tag}`
}

/**
 * What is on the engine besides the stand-in kube-cross image and the kube-build images (which the
 * action keeps for every tree): the tests should have removed it all.
 */
function leftovers(env) {
  const docker = args =>
    sh(['docker', ...args], { env: { ...process.env, ...env } })
      .stdout.split('\n')
      .filter(Boolean)
  const standIn = standInKubeCross()
  const kubeBuild = new Set(
    docker(['images', '-q', '--filter', 'label=io.kube-release-action.role=build-image'])
  )
  return [
    ...docker(['ps', '-a', '--format', 'container {{.Names}} ({{.Image}})']),
    ...docker(['volume', 'ls', '--format', 'volume {{.Name}}']),
    ...docker(['images', '--format', '{{.ID}}\t{{.Repository}}:{{.Tag}}'])
      .map(line => line.split('\t'))
      .filter(([id, name]) => !kubeBuild.has(id) && name !== standIn)
      .map(([id, name]) => `image ${name} (${id})`)
  ]
}

/** Counts of a vitest JSON report. */
function counts(reportPath) {
  try {
    const report = JSON.parse(readFileSync(reportPath, 'utf8'))
    const failedFiles = report.testResults.filter(
      f => f.status === 'failed' && f.assertionResults.length === 0
    )
    return {
      passed: report.numPassedTests,
      failed: report.numFailedTests + failedFiles.length,
      failures: report.testResults.flatMap(file => [
        ...(file.assertionResults.length === 0 && file.status === 'failed'
          ? [`${file.name.replace(`${REPO}/`, '')}: ${file.message.split('\n')[0]}`]
          : []),
        ...file.assertionResults.filter(t => t.status === 'failed').map(t => t.fullName)
      ])
    }
  } catch {
    return { passed: 0, failed: 1, failures: ['no test report: vitest did not finish'] }
  }
}

/** Whether the engine answers at its socket. */
function answers(env) {
  return sh(['docker', 'version'], { env: { ...process.env, ...env }, stdio: 'ignore' }).status === 0
}

function runEngine(name, reports) {
  const row = { name, setup: '-', tests: '-', stop: '-', passed: 0, failed: 0, left: [], failures: [] }
  const env = engineEnv(name)
  // An engine that was running already is someone's: it is used, and left running as it was.
  const ours = !answers(env)
  console.log(`\n===== ${name}: ${ours ? 'starting' : 'running already: used and left running'}`)
  let since = Date.now()
  const started = sh(['bash', ENGINES_SH, 'start', name], { stdio: 'inherit' })
  row.setup = `${seconds(since)} s`
  if (started.status !== 0) {
    row.failures.push('the engine did not start')
    row.failed = 1
  } else {
    const report = join(reports, `${name}.json`)
    console.log(
      `===== ${name}: e2e tests (${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')})`
    )
    since = Date.now()
    sh(
      [
        process.execPath,
        join(REPO, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--config',
        'vitest.e2e.config.ts',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${report}`,
        '--testNamePattern',
        TEST_NAMES,
        ...FILES
      ],
      { stdio: 'inherit', env: { ...process.env, ...env } }
    )
    row.tests = `${seconds(since)} s`
    Object.assign(row, counts(report))
    row.left = leftovers(env)
  }
  if (!ours) return row
  since = Date.now()
  const stopped = sh(['bash', ENGINES_SH, 'stop', name], { stdio: 'inherit' })
  row.stop = `${seconds(since)} s`
  if (stopped.status !== 0) row.failures.push('the engine did not stop cleanly')
  return row
}

function table(rows) {
  const header = ['engine', 'setup', 'tests', 'stop', 'passed', 'failed', 'left on the engine']
  const cells = rows.map(r => [r.name, r.setup, r.tests, r.stop, r.passed, r.failed, r.left.length])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map(c => String(c[i]).length)))
  const line = values => values.map((v, i) => String(v).padEnd(widths[i])).join('  ')
  const out = [line(header), ...cells.map(line)]
  for (const r of rows) {
    for (const failure of r.failures) out.push(`${r.name}: failed: ${failure}`)
    for (const left of r.left) out.push(`${r.name}: left: ${left}`)
  }
  return out.join('\n')
}

const known = sh(['bash', ENGINES_SH, 'names']).stdout.split('\n').filter(Boolean)
const names = process.argv.slice(2)
for (const name of names)
  if (!known.includes(name)) throw new Error(`unknown engine ${name}; engines: ${known}`)
const reports = mkdtempSync(join(tmpdir(), 'kube-release-engines-'))
const since = Date.now()
const rows = []
try {
  for (const name of names.length ? names : known) rows.push(runEngine(name, reports))
} finally {
  rmSync(reports, { recursive: true, force: true })
}
console.log(`\n===== engine matrix: ${seconds(since)} s\n${table(rows)}`)
process.exitCode = rows.every(r => r.failures.length === 0 && r.left.length === 0) ? 0 : 1
