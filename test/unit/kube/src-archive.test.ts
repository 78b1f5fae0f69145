// The clean-tree src tarball: `git archive HEAD`, gzipped in pieces, with no kubernetes/ prefix: files at the
// archive root (kube-build-flow.md §3.5 "src", §5).
import { execFileSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TarGzWriter } from '../../../src/archive/tar-gz.js'
import { writeGitArchive } from '../../../src/kube/src-archive.js'
import { gnuTar, gnuTarList, gzipTest, pythonTarList } from '../archive/readers.js'

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'n',
  GIT_AUTHOR_EMAIL: 'a@b',
  GIT_COMMITTER_NAME: 'n',
  GIT_COMMITTER_EMAIL: 'a@b',
  GIT_AUTHOR_DATE: '@1700000000 +0000',
  GIT_COMMITTER_DATE: '@1700000000 +0000',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null'
}

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' })

let tmp: string
let repo: string
let out: string
let writer: TarGzWriter
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-src-archive-'))
  repo = join(tmp, 'kubernetes')
  out = join(tmp, 'release-tars')
  await mkdir(repo)
  await mkdir(out)
  writer = new TarGzWriter(join(tmp, 'pieces'))
})
afterEach(async () => {
  await writer.dispose()
  await rm(tmp, { recursive: true, force: true })
})

/** A small committed tree: nested files, an executable, a symlink, a dot file. */
async function committedRepo(): Promise<void> {
  git(repo, 'init', '-q')
  await mkdir(join(repo, 'cluster/gce/gci'), { recursive: true })
  await mkdir(join(repo, 'build/root'), { recursive: true })
  await writeFile(join(repo, 'README.md'), '# Kubernetes\n')
  await writeFile(join(repo, '.gitignore'), '/_output\n')
  await writeFile(join(repo, 'cluster/gce/gci/configure-helper.sh'), '#!/bin/bash\n')
  await chmod(join(repo, 'cluster/gce/gci/configure-helper.sh'), 0o755)
  await writeFile(join(repo, 'build/root/Makefile'), 'all:\n')
  await symlink('build/root/Makefile', join(repo, 'Makefile'))
  git(repo, 'add', '.')
  git(repo, 'commit', '-q', '-m', 'one')
}

describe('writeGitArchive', () => {
  it('the archive holds exactly `git ls-files`, at the archive root (no kubernetes/ prefix)', async () => {
    await committedRepo()
    const dest = join(out, 'kubernetes-src.tar.gz')
    await writeGitArchive(repo, dest, writer)
    gzipTest(dest)
    const files = gnuTarList(dest, { gzip: true })
      .filter(e => !e.mode.startsWith('d'))
      .map(e => e.path)
      .sort()
    const tracked = git(repo, 'ls-files').trim().split('\n').sort()
    expect(files).toEqual(tracked)
    expect(files).toContain('README.md')
    for (const e of gnuTarList(dest, { gzip: true }))
      expect(e.path.startsWith('kubernetes/'), e.path).toBe(false)
  })

  it('contents, modes and symlinks are those of HEAD', async () => {
    await committedRepo()
    const dest = join(out, 'kubernetes-src.tar.gz')
    await writeGitArchive(repo, dest, writer)
    const members = new Map(pythonTarList(dest, 'r:gz').map(m => [m.name, m]))
    expect(members.get('README.md')?.contentHex).toBe(Buffer.from('# Kubernetes\n').toString('hex'))
    expect((members.get('cluster/gce/gci/configure-helper.sh')?.mode ?? 0) & 0o111).not.toBe(0)
    expect(members.get('Makefile')).toMatchObject({ type: 'symlink', linkname: 'build/root/Makefile' })
  })

  it('uncommitted changes and untracked files stay out (it is the committed tree)', async () => {
    await committedRepo()
    await writeFile(join(repo, 'README.md'), 'changed\n')
    await writeFile(join(repo, 'untracked.go'), 'package x\n')
    const dest = join(out, 'kubernetes-src.tar.gz')
    await writeGitArchive(repo, dest, writer)
    expect(gnuTar(['-xzOf', dest, 'README.md'])).toBe('# Kubernetes\n')
    expect(gnuTarList(dest, { gzip: true }).map(e => e.path)).not.toContain('untracked.go')
  })

  it('the same commit gives the same bytes', async () => {
    await committedRepo()
    const a = join(out, 'a.tar.gz')
    const b = join(out, 'b.tar.gz')
    await writeGitArchive(repo, a, writer)
    const later = new TarGzWriter(join(tmp, 'pieces'))
    try {
      await writeGitArchive(repo, b, later)
    } finally {
      await later.dispose()
    }
    expect((await readFile(a)).equals(await readFile(b))).toBe(true)
    // A later run of the same commit finds every piece compressed already.
    expect(writer.stats.compressed.pieces).toBeGreaterThan(0)
    expect(later.stats.compressed.pieces).toBe(0)
    expect(later.stats.reused).toEqual(writer.stats.compressed)
  })

  describe('a later run', () => {
    let log: string
    let path: string | undefined
    beforeEach(async () => {
      // git on PATH, through a script that notes each `git archive` before running it.
      const bin = join(tmp, 'bin')
      log = join(tmp, 'git-archive.log')
      await mkdir(bin)
      const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()
      await writeFile(
        join(bin, 'git'),
        `#!/bin/sh\nif [ "$1" = archive ]; then echo archive >> '${log}'; fi\nexec '${realGit}' "$@"\n`,
        { mode: 0o755 }
      )
      path = process.env.PATH
      process.env.PATH = `${bin}:${path}`
    })
    afterEach(() => {
      process.env.PATH = path
    })

    const gitArchiveRuns = async (): Promise<number> =>
      (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).length

    /** A run of its own: a writer over the kept pieces, the archive written, then pruned as the stage does. */
    async function run(name: string): Promise<{ dest: string; stats: TarGzWriter['stats'] }> {
      const own = new TarGzWriter(join(tmp, 'pieces'))
      const dest = join(out, name)
      try {
        await writeGitArchive(repo, dest, own)
        await own.prune()
      } finally {
        await own.dispose()
      }
      return { dest, stats: own.stats }
    }

    it('of the same commit does not run git archive, and gives the same bytes', async () => {
      await committedRepo()
      const first = await run('a.tar.gz')
      expect(await gitArchiveRuns()).toBe(1)
      expect(first.stats.streams).toEqual({ reused: 0, read: 1 })
      const second = await run('b.tar.gz')
      expect(await gitArchiveRuns()).toBe(1)
      expect(second.stats.streams).toEqual({ reused: 1, read: 0 })
      expect((await readFile(second.dest)).equals(await readFile(first.dest))).toBe(true)
    })

    it('of a new commit runs git archive again, and holds the new commit', async () => {
      await committedRepo()
      await run('a.tar.gz')
      await writeFile(join(repo, 'README.md'), '# Kubernetes, again\n')
      git(repo, 'commit', '-q', '-a', '-m', 'two')
      const second = await run('b.tar.gz')
      expect(await gitArchiveRuns()).toBe(2)
      expect(second.stats.streams).toEqual({ reused: 0, read: 1 })
      expect(gnuTar(['-xzOf', second.dest, 'README.md'])).toBe('# Kubernetes, again\n')
    })

    it('after a new tag, of a tree whose export-subst prints ref names, holds the new names', async () => {
      await committedRepo()
      await writeFile(join(repo, '.gitattributes'), 'VERSION export-subst\n')
      await writeFile(join(repo, 'VERSION'), '$Format:%D$\n')
      git(repo, 'add', '.')
      git(repo, 'commit', '-q', '-m', 'version')
      const first = await run('a.tar.gz')
      expect(gnuTar(['-xzOf', first.dest, 'VERSION'])).not.toContain('v9.9.9')
      git(repo, 'tag', 'v9.9.9')
      const second = await run('b.tar.gz')
      expect(gnuTar(['-xzOf', second.dest, 'VERSION'])).toContain('tag: v9.9.9')
    })

    it('after tar.umask changed runs git archive again, and gives the modes of the new umask', async () => {
      await committedRepo()
      await run('a.tar.gz')
      git(repo, 'config', 'tar.umask', '0077')
      const second = await run('b.tar.gz')
      expect(await gitArchiveRuns()).toBe(2)
      expect(second.stats.streams).toEqual({ reused: 0, read: 1 })
      const readme = gnuTarList(second.dest, { gzip: true }).find(e => e.path === 'README.md')
      expect(readme?.mode).toBe('-rw-------')
    })
  })

  it('replaces an existing file at dest', async () => {
    await committedRepo()
    const dest = join(out, 'kubernetes-src.tar.gz')
    await writeFile(dest, 'old')
    await writeGitArchive(repo, dest, writer)
    gzipTest(dest)
    expect((await stat(dest)).size).toBeGreaterThan(3)
  })

  it('not a git repository: an error naming git archive, and no file at dest (nor a partial one)', async () => {
    await writeFile(join(repo, 'README.md'), 'x\n')
    const dest = join(out, 'kubernetes-src.tar.gz')
    await expect(writeGitArchive(repo, dest, writer)).rejects.toThrow(/git archive/)
    expect(await readdir(out)).toEqual([])
  })

  it('a repository without commits: an error, and no file at dest', async () => {
    git(repo, 'init', '-q')
    const dest = join(out, 'kubernetes-src.tar.gz')
    await expect(writeGitArchive(repo, dest, writer)).rejects.toThrow()
    expect(await readdir(out)).toEqual([])
  })

  /** Runs `work`, collecting promise rejections nobody handled meanwhile (Node ends the process on one). */
  async function unhandledDuring(work: () => Promise<void>): Promise<unknown[]> {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      await work()
      await new Promise(resolve => setTimeout(resolve, 50))
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
    return unhandled
  }

  it('a missing tree: the call rejects (no unhandled rejection), and no file at dest', async () => {
    const dest = join(out, 'kubernetes-src.tar.gz')
    const unhandled = await unhandledDuring(async () => {
      await expect(writeGitArchive(join(tmp, 'missing'), dest, writer)).rejects.toThrow()
    })
    expect(await readdir(out)).toEqual([])
    expect(unhandled).toEqual([])
  })

  it('git not on PATH: the call rejects (no unhandled rejection), and no file at dest', async () => {
    await committedRepo()
    const dest = join(out, 'kubernetes-src.tar.gz')
    const path = process.env.PATH
    const unhandled = await unhandledDuring(async () => {
      process.env.PATH = join(tmp, 'no-bin')
      try {
        await expect(writeGitArchive(repo, dest, writer)).rejects.toThrow()
      } finally {
        process.env.PATH = path
      }
    })
    expect(await readdir(out)).toEqual([])
    expect(unhandled).toEqual([])
  })
})
