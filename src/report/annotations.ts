// Go compiler, vet and test diagnostics in the build's output, as places in the checkout.
import { posix } from 'node:path'
import { REMOTE_ROOT } from '../kube/layout.js'

export interface GoDiagnostic {
  /** Relative to the tree. */
  readonly path: string
  readonly line: number
  readonly column?: number
  readonly message: string
}

// `path/file.go:12:5: message`, absolute in the container or relative to the tree (go build and
// go vet print both), optionally prefixed as vet does (`vet: `).
const DIAGNOSTIC = /^\s*(?:vet: )?((?:\.\/)?[\w./+@-]+\.go):(\d+)(?::(\d+))?: (.+)$/

/** A diagnostic on the line, or null; paths outside the tree (the Go toolchain's own) are not ours. */
export function parseGoDiagnostic(line: string): GoDiagnostic | null {
  const match = DIAGNOSTIC.exec(line)
  if (!match) return null
  const [, raw, lineNumber, column, message] = match
  let path = raw
  if (path.startsWith('/')) {
    if (!path.startsWith(`${REMOTE_ROOT}/`)) return null
    path = path.slice(REMOTE_ROOT.length + 1)
  }
  path = posix.normalize(path)
  if (path.startsWith('../')) return null
  return {
    path,
    line: Number(lineNumber),
    ...(column ? { column: Number(column) } : {}),
    message: message.trim()
  }
}
