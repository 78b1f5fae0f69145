// The e2e suites need a running engine with the stand-in kube-cross image and a built dist/.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { REPO_ROOT } from './helpers.js'

export default function setup(): void {
  if (!existsSync(`${REPO_ROOT}/dist/cli.js`)) throw new Error('dist/ is missing: run npm run build first')
  execFileSync('bash', [`${REPO_ROOT}/scripts/setup-docker.sh`], { stdio: 'inherit' })
  execFileSync('bash', [`${REPO_ROOT}/scripts/stand-in-kube-cross.sh`], { stdio: 'inherit' })
}
