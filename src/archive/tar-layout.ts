// Where the files inside a tar file sit, by their headers alone: an image archive holds its layer
// tars uncompressed, and a layer holds its binary byte for byte, so the binary's bytes can be found
// at an offset of the archive without reading the rest.
import { open, type FileHandle } from 'node:fs/promises'
import { BLOCK, padding } from './tar-format.js'

/** A file's content inside a tar file: its offset there and its size. */
export interface Extent {
  readonly offset: number
  readonly size: number
}

/** A number field: octal text, or GNU's base-256 (high bit of the first byte set). */
function numberField(block: Buffer, start: number, width: number): number {
  if (block[start] & 0x80) {
    let value = block[start] & 0x7f
    for (let i = start + 1; i < start + width; i++) value = value * 256 + block[i]
    return value
  }
  const text = block
    .toString('latin1', start, start + width)
    .replace(/[\0 ]+$/, '')
    .trim()
  if (!/^[0-7]*$/.test(text)) throw new Error(`not a tar number: ${JSON.stringify(text)}`)
  return text === '' ? 0 : parseInt(text, 8)
}

function checksumMatches(block: Buffer): boolean {
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]
  return numberField(block, 148, 8) === sum
}

/** The pax records' values that matter here: the size and path of the next member. */
function paxOverrides(data: Buffer): { size?: number; path?: string } {
  const found: { size?: number; path?: string } = {}
  let at = 0
  while (at < data.length) {
    const space = data.indexOf(0x20, at)
    const length = Number(data.toString('latin1', at, space))
    if (space < 0 || !Number.isSafeInteger(length) || length <= 0) throw new Error('bad pax record')
    const record = data.toString('utf8', space + 1, at + length - 1)
    const eq = record.indexOf('=')
    const key = record.slice(0, eq)
    if (key === 'size') found.size = Number(record.slice(eq + 1))
    if (key === 'path') found.path = record.slice(eq + 1)
    at += length
  }
  return found
}

async function readAt(file: FileHandle, offset: number, length: number): Promise<Buffer> {
  const bytes = Buffer.alloc(length)
  const { bytesRead } = await file.read(bytes, 0, length, offset)
  if (bytesRead !== length) throw new Error(`tar ends at ${offset + bytesRead}, inside a member`)
  return bytes
}

/**
 * The regular files of at least `minSize` bytes in the tar between `start` and `end`, a member named
 * *.tar looked into in turn (to `depth` levels); offsets are the file's. Throws when the bytes are no tar.
 */
async function extentsIn(
  file: FileHandle,
  start: number,
  end: number,
  minSize: number,
  depth: number
): Promise<Extent[]> {
  const extents: Extent[] = []
  let at = start
  let next: { size?: number; path?: string } = {}
  while (at + BLOCK <= end) {
    const header = await readAt(file, at, BLOCK)
    if (header.every(byte => byte === 0)) return extents
    if (!checksumMatches(header)) throw new Error(`no tar header at ${at}`)
    const type = String.fromCharCode(header[156] || 0x30)
    const meta = type === 'x' || type === 'L'
    // A pax size applies to the next file's header, not to another header in between.
    const size = (meta ? undefined : next.size) ?? numberField(header, 124, 12)
    const content = at + BLOCK
    if (content + size > end) throw new Error(`a tar member at ${at} runs past the end`)
    if (meta) {
      const data = await readAt(file, content, size)
      next = type === 'x' ? paxOverrides(data) : { ...next, path: data.toString('utf8').replace(/\0+$/, '') }
    } else {
      const prefix = header.toString('utf8', 345, 500).replace(/\0.*$/s, '')
      const name = header.toString('utf8', 0, 100).replace(/\0.*$/s, '')
      const path = next.path ?? (prefix ? `${prefix}/${name}` : name)
      next = {}
      if ((type === '0' || type === '7') && size >= minSize) {
        const inner =
          depth > 0 && path.endsWith('.tar')
            ? await extentsIn(file, content, content + size, minSize, depth - 1).catch(() => null)
            : null
        extents.push(...(inner ?? [{ offset: content, size }]))
      }
    }
    at = content + size + padding(size)
  }
  return extents
}

/**
 * The files of at least `minSize` bytes inside the tar file at `path` (and inside the tars it holds,
 * an image archive's layers), by offset; null when the file is no tar.
 */
export async function embeddedFiles(path: string, minSize: number): Promise<Extent[] | null> {
  const file = await open(path, 'r')
  try {
    const { size } = await file.stat()
    return await extentsIn(file, 0, size, minSize, 1)
  } catch {
    return null
  } finally {
    await file.close()
  }
}
