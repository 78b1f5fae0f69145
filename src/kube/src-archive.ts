// The clean-tree src tarball: `git archive HEAD` (no kubernetes/ prefix, as upstream), gzipped in
// pieces by the release's writer, so that an unchanged HEAD compresses nothing again.
import { spawn } from 'node:child_process'
import { PassThrough } from 'node:stream'
import type { TarGzWriter } from '../archive/tar-gz.js'

export async function writeGitArchive(root: string, dest: string, writer: TarGzWriter): Promise<void> {
  const git = spawn('git', ['archive', '--format=tar', 'HEAD'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  // Read from now on: Node resumes (and so discards) the stdout of a child that exits before anything
  // reads it, which a busy machine makes likely while the writer is still setting up.
  const output = git.stdout.pipe(new PassThrough())
  let stderr = ''
  git.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number>((resolve, reject) => {
    git.on('error', reject)
    git.on('close', code => resolve(code ?? -1))
  })
  // Awaited once the output is read; a failed spawn meanwhile must not count as unhandled.
  exited.catch(() => undefined)
  // The archive is complete only when git says so: its failure fails the write before dest appears.
  await writer.writeStream(
    dest,
    (async function* () {
      yield* output as AsyncIterable<Buffer>
      const status = await exited
      if (status !== 0) throw new Error(`git archive HEAD failed with exit code ${status}: ${stderr.trim()}`)
    })()
  )
}
