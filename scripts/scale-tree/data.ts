// Deterministic bytes for the scale tree: an AES-CTR keystream per name (the same name gives the same
// bytes on every machine), and text made of slices of a pool of Go-like tokens, which gzip compresses
// about as well as a Go executable (~0.42 at level 6) when raw keystream bytes are mixed in.
import { createCipheriv, createHash } from 'node:crypto'

/** A reader of the keystream named `name`: each call returns the next `n` bytes. */
export function keystream(name: string): (n: number) => Buffer {
  const key = createHash('sha256').update(`scale-tree:${name}`).digest()
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32))
  return n => cipher.update(Buffer.alloc(n))
}

const TOKENS = [
  ...['func', 'return', 'if', 'err', 'nil', 'for', 'range', 'struct', 'type', 'string', 'int64', 'map'],
  ...['var', 'const', 'case', 'switch', 'default', 'package', 'import', 'ctx', 'context.Context'],
  ...['metav1.ObjectMeta', 'Spec', 'Status', 'Name', 'Namespace', 'Labels', 'Annotations', 'DeepCopy'],
  ...['in', 'out', '*', '&', '{', '}', '(', ')', '[]', ':=', '=', '==', '!=', ',', '.', 'fmt.Errorf'],
  ...['errors.New', 'klog.V(4).InfoS', 'len', 'append', 'make', 'true', 'false', '0', '1', 'uint32'],
  ...['float64', 'byte', 'interface{}', 'go', 'chan', 'select', 'defer', 'corev1.Pod', 'apps.Deployment']
]
const POOL_BYTES = 4 << 20
/** Raw keystream bytes after each slice of the pool: what brings gzip's ratio up to a binary's. */
const RAW_BYTES_PER_SLICE = 384

let pool: Buffer | undefined

/** 4 MiB of Go-like token text, made once per process. */
function tokenPool(): Buffer {
  if (pool) return pool
  const random = keystream('pool')(POOL_BYTES)
  const parts: string[] = []
  let size = 0
  for (let i = 0; size < POOL_BYTES; i += 2) {
    const a = random[i % POOL_BYTES]
    const b = random[(i + 1) % POOL_BYTES]
    let token = TOKENS[a % TOKENS.length]
    if (b < 40) token += `Field${a * 256 + b}`
    token = b > 240 ? `\n${'\t'.repeat(b % 4)}` : token + (b & 1 ? ' ' : '')
    parts.push(token)
    size += token.length
  }
  pool = Buffer.from(parts.join('')).subarray(0, POOL_BYTES)
  return pool
}

/**
 * `bytes` of data named `name`: slices of the token pool (0.5–4.5 KiB, chosen by the keystream), each
 * followed by raw keystream bytes when `binary`; without, it is plain text (for files in the tree).
 */
export function generatedData(name: string, bytes: number, binary: boolean): Buffer {
  const source = tokenPool()
  const next = keystream(name)
  const out = Buffer.alloc(bytes)
  let at = 0
  while (at < bytes) {
    const choice = next(8)
    const offset = choice.readUInt32LE(0) % (source.length - 8192)
    const length = 512 + (choice.readUInt16LE(4) % 4096)
    at += source.copy(out, at, offset, offset + Math.min(length, bytes - at))
    if (binary && at < bytes) at += next(Math.min(RAW_BYTES_PER_SLICE, bytes - at)).copy(out, at)
  }
  return out
}

/** Text of about `bytes` (for comments and vendored files): whole lines of the pool, no raw bytes. */
export function generatedText(name: string, bytes: number): string {
  return generatedData(name, bytes, false).toString('latin1').replace(/\*\//g, '* /')
}
