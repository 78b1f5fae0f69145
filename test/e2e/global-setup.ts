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

export default function setup(): () => void {
  if (!existsSync(`${REPO_ROOT}/dist/cli.js`)) throw new Error('dist/ is missing: run npm run build first')
  execFileSync('bash', [`${REPO_ROOT}/scripts/setup-docker.sh`], { stdio: 'inherit' })
  execFileSync('bash', [`${REPO_ROOT}/scripts/stand-in-kube-cross.sh`], { stdio: 'inherit' })
  const runTemp = mkdtempSync(join(tmpdir(), 'kube-release-e2e-run-'))
  // Test workers and the processes they start inherit it; os.tmpdir() reads it on each call.
  process.env.TMPDIR = runTemp
  return () => rmSync(runTemp, { recursive: true, force: true })
}
