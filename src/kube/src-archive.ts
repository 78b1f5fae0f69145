// The clean-tree src tarball: `git archive HEAD` (no kubernetes/ prefix, as upstream), gzipped in
// pieces by the release's writer, so that an unchanged HEAD compresses nothing again, and is not even
// archived again: the writer keeps the pieces under a key of everything that decides the archive.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve as resolvePath } from 'node:path'
import { PassThrough } from 'node:stream'
import type { TarGzWriter } from '../archive/tar-gz.js'
import { git } from './git.js'

/**
 * One process, as each costs about what git archive of a small tree does: the ids of HEAD and of
 * every ref, then their names (HEAD's is its branch, or HEAD when detached), then a path.
 */
const REV_PARSE = [
  'rev-parse',
  'HEAD',
  '--all',
  '--symbolic-full-name',
  'HEAD',
  '--all',
  '--git-path',
  'info/attributes'
]

const contentOrNothing = (path: string): Promise<string> => readFile(path, 'utf8').catch(() => '')

/**
 * A hash of what decides `git archive HEAD`'s bytes: the commit, git's version, the configuration
 * (tar.umask, core.autocrlf, filters…), the attribute files outside the tree (export-ignore,
 * export-subst, eol) and the refs and branch that export-subst's %d and %(describe) print. More than
 * decides them (a new ref) only archives again; less would give a stale archive.
 */
async function gitArchiveKey(root: string): Promise<string> {
  const [revParse, version, config] = await Promise.all([
    git(root, REV_PARSE),
    git(root, ['version']),
    git(root, ['config', '--list'])
  ])
  const infoAttributes = revParse.trimEnd().split('\n').at(-1) ?? ''
  const home = process.env.HOME ?? homedir()
  const attributesFile = /^core\.attributesfile=(.*)$/m.exec(config)?.[1].replace(/^~\//, `${home}/`)
  const attributeFiles = [
    resolvePath(root, infoAttributes),
    attributesFile ? resolvePath(root, attributesFile) : null,
    join(process.env.XDG_CONFIG_HOME || join(home, '.config'), 'git/attributes'),
    '/etc/gitattributes'
  ].filter(path => path !== null)
  const attributes = await Promise.all(attributeFiles.map(contentOrNothing))
  const hash = createHash('sha256')
  for (const part of [revParse, version, config, ...attributes]) hash.update(`${part.length}:${part}`)
  return `git-archive-${hash.digest('hex')}`
}

/** Writes `git archive HEAD` of `root` as a .tar.gz at `dest`, from the pieces of the last run when its key is unchanged. */
export async function writeGitArchive(root: string, dest: string, writer: TarGzWriter): Promise<void> {
  const key = await gitArchiveKey(root).catch((err: unknown) => {
    throw new Error(`cannot tell what git archive HEAD of ${root} would give: ${(err as Error).message}`)
  })
  await writer.writeStream(dest, key, () => gitArchive(root))
}

/** `git archive --format=tar HEAD`'s output; fails at its end when git does. */
async function* gitArchive(root: string): AsyncGenerator<Buffer> {
  const child = spawn('git', ['archive', '--format=tar', 'HEAD'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  // Read from now on: Node resumes (and so discards) the stdout of a child that exits before anything
  // reads it, which a busy machine makes likely while the writer is still setting up.
  const output = child.stdout.pipe(new PassThrough())
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', code => resolve(code ?? -1))
  })
  // Awaited once the output is read; a failed spawn meanwhile must not count as unhandled.
  exited.catch(() => undefined)
  // The archive is complete only when git says so: its failure fails the write before dest appears.
  yield* output as AsyncIterable<Buffer>
  const status = await exited
  if (status !== 0) throw new Error(`git archive HEAD failed with exit code ${status}: ${stderr.trim()}`)
}
