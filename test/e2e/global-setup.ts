// The e2e suites need a running engine with the stand-in kube-cross image and a built dist/. Every
// temporary file of the run (fixture trees, caches, downloads) goes under one directory, removed at
// the end, so test runs leave nothing in /tmp.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// Not from helpers.ts: importing it here would make its temporary directories before TMPDIR is set.
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** DOCKER_HOST values that name the machine's own engine, which the setup may start. */
const MACHINE_ENGINE = new Set(['unix:///var/run/docker.sock', 'unix:///run/docker.sock'])

export default function setup(): () => void {
  if (!existsSync(`${REPO_ROOT}/dist/cli.js`)) throw new Error('dist/ is missing: run npm run build first')
  const host = process.env.DOCKER_HOST
  if (host && !MACHINE_ENGINE.has(host)) checkEngine(host)
  else execFileSync('bash', [`${REPO_ROOT}/scripts/setup-docker.sh`], { stdio: 'inherit' })
  execFileSync('bash', [`${REPO_ROOT}/scripts/stand-in-kube-cross.sh`], { stdio: 'inherit' })
  const runTemp = mkdtempSync(join(tmpdir(), 'kube-release-e2e-run-'))
  // Test workers and the processes they start inherit it; os.tmpdir() reads it on each call.
  process.env.TMPDIR = runTemp
  return () => rmSync(runTemp, { recursive: true, force: true })
}

/**
 * Another engine (one of scripts/engines.sh, a remote one): nothing is started there, so it must
 * answer; the stand-in kube-cross image is made there only when it lacks the current one.
 */
function checkEngine(host: string): void {
  let version: string
  try {
    version = execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe']
    }).trim()
  } catch (err) {
    throw new Error(
      `DOCKER_HOST is ${host}, and no engine answers there (${String((err as { stderr?: string }).stderr).trim()}); ` +
        'start it first (scripts/engines.sh start NAME for the engines of the matrix)',
      { cause: err }
    )
  }
  const shares = process.env.KRA_ENGINE_SHARES_FILES === '0' ? 'sees none of the files here' : 'shares files'
  console.log(`e2e: engine ${version} at ${host} (${shares})`)
}
