// The kube-build image of legacy trees (build/build-image/Dockerfile): its build context, and a tag
// that is a hash of everything that goes into it, so an unchanged tree reuses its image and repeated
// runs leave no dangling images.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TarMember } from '../archive/tar.js'
import { InputError } from '../errors.js'

/**
 * The Dockerfile ADDs rsyncd.password. No rsync daemon runs (rsync goes over an exec session), so
 * this fixed text keeps the image identical from run to run.
 */
const PASSWORD_PLACEHOLDER = 'not-used: rsync runs over an exec session, not a daemon\n'

/** The files of build/build-image the Dockerfile copies, plus the host's /etc/localtime as upstream. */
export async function buildImageContext(dir: string): Promise<TarMember[]> {
  let localtime: Buffer
  try {
    localtime = await readFile('/etc/localtime')
  } catch {
    throw new InputError('the kube-build image needs /etc/localtime on this host, as upstream does', {
      fix: 'Install tzdata, or use a tree without build/build-image/Dockerfile'
    })
  }
  const read = (name: string): Promise<Buffer> => readFile(join(dir, name))
  return [
    { kind: 'data', path: 'Dockerfile', data: await read('Dockerfile'), mode: 0o644 },
    { kind: 'data', path: 'rsyncd.sh', data: await read('rsyncd.sh'), mode: 0o755 },
    { kind: 'data', path: 'localtime', data: localtime, mode: 0o644 },
    { kind: 'data', path: 'rsyncd.password', data: PASSWORD_PLACEHOLDER, mode: 0o600 }
  ]
}

/** `kube-build:build-<hash of context and kube-cross>-<version>`. */
export function buildImageRef(context: readonly TarMember[], kubeCrossId: string, version: string): string {
  const hash = createHash('sha256').update(kubeCrossId)
  for (const m of context) if (m.kind === 'data') hash.update(`\0${m.path}\0`).update(m.data)
  return `kube-build:build-${hash.digest('hex').slice(0, 10)}-${version}`
}

/** build-args of the Dockerfile: the kube-cross image it starts FROM. */
export function buildImageArgs(kubeCross: { repository: string; tag: string }): Record<string, string> {
  return { KUBE_CROSS_IMAGE: kubeCross.repository, KUBE_CROSS_VERSION: kubeCross.tag }
}
