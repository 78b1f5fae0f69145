// The clean-tree src tarball: `git archive HEAD` (no kubernetes/ prefix, as upstream), gzipped here.
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'

export async function writeGitArchive(root: string, dest: string): Promise<void> {
  const git = spawn('git', ['archive', '--format=tar', 'HEAD'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  git.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number>((resolve, reject) => {
    git.on('error', reject)
    git.on('close', code => resolve(code ?? -1))
  })
  const partial = `${dest}.partial`
  try {
    // Both settle before the partial file is removed: a failed spawn must not race the writer.
    const [piped, status] = await Promise.allSettled([
      pipeline(git.stdout, createGzip(), createWriteStream(partial)),
      exited
    ])
    if (status.status === 'rejected') throw status.reason
    if (status.value !== 0)
      throw new Error(`git archive HEAD failed with exit code ${status.value}: ${stderr.trim()}`)
    if (piped.status === 'rejected') throw piped.reason
    await rename(partial, dest)
  } finally {
    await rm(partial, { force: true })
  }
}
