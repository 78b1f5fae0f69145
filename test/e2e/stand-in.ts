// The stand-in kube-cross image's reference, apart from helpers.ts so that the global setup can use
// it: importing helpers.ts makes temporary directories before the setup has set TMPDIR.
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** The stand-in kube-cross image the global setup makes: the reference the fixture tree asks for. */
export function standInKubeCross(): string {
  const tag = readFileSync(
    join(REPO_ROOT, 'test/fixtures/kube-tree/build/build-image/cross/VERSION'),
    'utf8'
  ).trim()
  return `${process.env.KUBE_CROSS_IMAGE ?? 'registry.k8s.io/build-image/kube-cross'}:${tag}`
}
