// Independent readers of tar and gzip data for the archive tests: GNU tar and python3's tarfile,
// both run with argv arrays (no shell). Not a test file itself.
import { execFileSync, spawnSync } from 'node:child_process'

const C_ENV = { ...process.env, LC_ALL: 'C', TZ: 'UTC' }

export interface GnuListed {
  /** e.g. `-rw-r--r--`, `drwxr-xr-x`, `lrwxrwxrwx` */
  readonly mode: string
  /** `uid/gid` with --numeric-owner, else `uname/gname` (numbers when no name is recorded). */
  readonly owner: string
  readonly size: number
  /** `YYYY-MM-DD HH:MM:SS`, UTC */
  readonly mtime: string
  readonly path: string
  /** Symlinks only. */
  readonly target?: string
}

/**
 * `tar -tv` of an archive (a file path or, with file '-', the input buffer), parsed; GNU tar exits
 * non-zero (and this throws) on a bad checksum or a truncated archive.
 */
export function gnuTarList(
  file: string,
  options: { numeric?: boolean; gzip?: boolean; input?: Buffer } = {}
): GnuListed[] {
  const args = ['--full-time', '--utc', '--quoting-style=literal']
  if (options.numeric) args.push('--numeric-owner')
  args.push(options.gzip ? '-tvzf' : '-tvf', file)
  return gnuTar(args, options.input)
    .split('\n')
    .filter(l => l !== '')
    .map((line): GnuListed => {
      const m = /^(\S{10})\s+(\S+)\s+(\d+)\s+(\S+ \S+)\s(.*)$/.exec(line)
      if (!m) throw new Error(`unexpected tar -tv line: ${line}`)
      const [, mode, owner, size, mtime, rest] = m
      if (mode.startsWith('l')) {
        const at = rest.indexOf(' -> ')
        return { mode, owner, size: Number(size), mtime, path: rest.slice(0, at), target: rest.slice(at + 4) }
      }
      return { mode, owner, size: Number(size), mtime, path: rest }
    })
}

/** Runs GNU tar; throws on a non-zero exit and on any warning (tar warns on stderr but may exit 0). */
export function gnuTar(args: string[], input?: Buffer): string {
  const result = spawnSync('tar', args, { input, encoding: 'utf8', env: C_ENV, maxBuffer: 256 * 1024 * 1024 })
  if (result.error) throw result.error
  if (result.status !== 0 || result.stderr !== '') {
    throw new Error(`tar ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  }
  return result.stdout
}

/** `tar -tvv --xattrs` output as is: GNU tar prints `  x: <length> <name>` under an entry with xattrs. */
export function gnuTarXattrListing(file: string): string {
  return gnuTar(['--xattrs', '--xattrs-include=*', '-tvvf', file])
}

export interface PyMember {
  /** Directories end in `/` here (tarfile strips it). */
  readonly name: string
  readonly type: 'file' | 'dir' | 'symlink' | 'other'
  readonly size: number
  readonly mode: number
  readonly uid: number
  readonly gid: number
  readonly uname: string
  readonly gname: string
  readonly mtime: number
  readonly linkname: string
  /** pax header records of the member, values as hex of their raw bytes. */
  readonly pax: Record<string, string>
  /** Regular files: hex of the content (unless left out). */
  readonly contentHex?: string
}

const PY_LIST = `
import json, sys, tarfile
mode, content = sys.argv[1], sys.argv[2] == 'content'
archives = []
for file in sys.argv[3:]:
    out = []
    with tarfile.open(file, mode) as tf:
        for m in tf:
            kind = 'file' if m.isreg() else 'dir' if m.isdir() else 'symlink' if m.issym() else 'other'
            item = {
                'name': m.name + ('/' if m.isdir() else ''),
                'type': kind, 'size': m.size, 'mode': m.mode, 'uid': m.uid, 'gid': m.gid,
                'uname': m.uname, 'gname': m.gname, 'mtime': m.mtime, 'linkname': m.linkname,
                'pax': {k: v.encode('utf-8', 'surrogateescape').hex() for k, v in m.pax_headers.items()},
            }
            if m.isreg() and content:
                item['contentHex'] = tf.extractfile(m).read().hex()
            out.append(item)
    archives.append(out)
json.dump(archives, sys.stdout)
`

/** Every member of each archive as python3's tarfile reads it (one python run); mode 'r:' (plain tar) or 'r:gz'. */
export function pythonTarLists(
  files: readonly string[],
  mode: 'r:' | 'r:gz',
  options: { content?: boolean } = {}
): PyMember[][] {
  const content = options.content === false ? 'no-content' : 'content'
  const out = execFileSync('python3', ['-c', PY_LIST, mode, content, ...files], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024
  })
  return JSON.parse(out) as PyMember[][]
}

/** Every member as python3's tarfile reads it; content unless told not to. */
export function pythonTarList(
  file: string,
  mode: 'r:' | 'r:gz',
  options: { content?: boolean } = {}
): PyMember[] {
  return pythonTarLists([file], mode, options)[0]
}

const PY_GZIP_MEMBERS = `
import json, sys, zlib
data = open(sys.argv[1], 'rb').read()
members, total = 0, 0
while data:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total += len(d.decompress(data))
    if not d.eof:
        raise SystemExit('truncated gzip member')
    members += 1
    data = d.unused_data
json.dump({'members': members, 'bytes': total}, sys.stdout)
`

/** The gzip members of a file, decompressed one by one with zlib (fails on a truncated member). */
export function gzipMembers(file: string): { members: number; bytes: number } {
  return JSON.parse(execFileSync('python3', ['-c', PY_GZIP_MEMBERS, file], { encoding: 'utf8' })) as {
    members: number
    bytes: number
  }
}

/** `gzip -t`: throws unless every member is intact. */
export function gzipTest(file: string): void {
  execFileSync('gzip', ['-t', file], { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** The decompressed bytes of a .gz file, as gzip itself gives them. */
export function gunzip(file: string): Buffer {
  return execFileSync('gzip', ['-dc', file], { maxBuffer: 256 * 1024 * 1024 })
}

const PY_XATTRS = `
import json, os, sys
out = {}
for path in sys.argv[1:]:
    names = os.listxattr(path, follow_symlinks=False)
    out[path] = {n: os.getxattr(path, n, follow_symlinks=False).hex() for n in names}
json.dump(out, sys.stdout)
`

/** The extended attributes of files as the kernel holds them (python's os.getxattr), values as hex. */
export function xattrsOf(paths: readonly string[]): Record<string, Record<string, string>> {
  return JSON.parse(execFileSync('python3', ['-c', PY_XATTRS, ...paths], { encoding: 'utf8' })) as Record<
    string,
    Record<string, string>
  >
}
