// Tar archives written member by member from a plan, streamed: files are read from disk as they
// are packed, never held whole in memory.
import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import tar from 'tar-stream'

export type TarMember =
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 'file'; readonly path: string; readonly source: string }
  | { readonly kind: 'data'; readonly path: string; readonly data: string | Buffer; readonly mode: number }

export interface TarOwner {
  readonly uid: number
  readonly gid: number
}

/** Owner and group 0, as upstream's `tar --owner=0 --group=0`. */
export const ROOT_OWNER: TarOwner = { uid: 0, gid: 0 }

type EntryHeader = Partial<tar.Header> & Pick<tar.Header, 'name'>

function header(path: string, owner: TarOwner, extra: Partial<tar.Header>): EntryHeader {
  return {
    ...extra,
    name: path,
    uid: owner.uid,
    gid: owner.gid,
    uname: owner.uid === 0 ? 'root' : '',
    gname: owner.gid === 0 ? 'root' : ''
  }
}

function addEntry(pack: tar.Pack, h: EntryHeader, data?: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null): void => (err ? reject(err) : resolve())
    if (data === undefined) pack.entry(h, done)
    else pack.entry(h, data, done)
  })
}

async function addMember(pack: tar.Pack, member: TarMember, owner: TarOwner): Promise<void> {
  switch (member.kind) {
    case 'dir':
      return addEntry(pack, header(member.path, owner, { type: 'directory', mode: 0o755, mtime: new Date() }))
    case 'data':
      return addEntry(
        pack,
        header(member.path, owner, { type: 'file', mode: member.mode, mtime: new Date() }),
        member.data
      )
    case 'file': {
      const info = await stat(member.source)
      const h = header(member.path, owner, {
        type: 'file',
        mode: info.mode & 0o7777,
        size: info.size,
        mtime: info.mtime
      })
      let finish: (err?: Error | null) => void = () => undefined
      const written = new Promise<void>((resolve, reject) => {
        finish = err => (err ? reject(err) : resolve())
      })
      const entry = pack.entry(h, finish)
      await pipeline(createReadStream(member.source), entry)
      return written
    }
  }
}

/** A tar stream of the members, in the order given. */
export function packTar(members: readonly TarMember[], owner: TarOwner = ROOT_OWNER): tar.Pack {
  const pack = tar.pack()
  void (async () => {
    try {
      for (const member of members) await addMember(pack, member, owner)
      pack.finalize()
    } catch (err) {
      pack.destroy(err as Error)
    }
  })()
  return pack
}

/** A whole (small) tar in memory, for build contexts and files copied into containers. */
export async function tarBuffer(
  members: readonly TarMember[],
  owner: TarOwner = ROOT_OWNER
): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of packTar(members, owner)) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Writes a .tar.gz; the file appears under its name only when complete. */
export async function writeTarGz(dest: string, members: readonly TarMember[]): Promise<void> {
  const partial = `${dest}.partial`
  try {
    await pipeline(packTar(members), createGzip(), createWriteStream(partial))
    await rename(partial, dest)
  } finally {
    await rm(partial, { force: true })
  }
}
