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

/** A `go test` failure message: a file's base name and line, in the package the result line names. */
export interface GoTestDiagnostic {
  readonly importPath: string
  readonly test: string
  /** The file's base name, as `go test` prints it. */
  readonly file: string
  readonly line: number
  readonly message: string
}

const TEST_START = /^=== (?:RUN|CONT|NAME)\s+(\S+)/
const TEST_RESULT = /^\s*--- (FAIL|PASS|SKIP): (\S+) \(/
// t.Error and t.Log print `    <file>.go:<line>: <message>`, the file without its directory.
const TEST_MESSAGE = /^\s+([\w.+-]+\.go):(\d+): (.*)$/
// The line that ends a package's output: `FAIL\t<import path>\t0.01s`, `ok  \t<path>\t(cached)`,
// `FAIL\t<path> [build failed]`, `?   \t<path>\t[no test files]`.
const PACKAGE_RESULT = /^(FAIL|ok|\?)\s+([\w.~/+-]+\/[\w.~/+-]+|[\w-]+\.[\w.-]+)(?:\s|$)/

/**
 * Reads `go test` output line by line. Its failure messages name only a file's base name; the
 * package comes at the end of its block, so they are held until then and returned with it, those
 * of failed tests only. Also collects the packages that failed.
 */
export class GoTestOutput {
  readonly failedPackages: string[] = []
  private test: string | null = null
  private readonly failedTests = new Set<string>()
  private pending: Omit<GoTestDiagnostic, 'importPath'>[] = []

  /** `message`: the line was a test's message (not a compiler's); `done`: the diagnostics of a package. */
  line(text: string): { message: boolean; done: GoTestDiagnostic[] } {
    const start = TEST_START.exec(text)
    if (start) this.test = start[1]
    const result = TEST_RESULT.exec(text)
    if (result) {
      this.test = result[2]
      if (result[1] === 'FAIL') this.failedTests.add(result[2])
    }
    const message = TEST_MESSAGE.exec(text)
    if (message && this.test !== null) {
      this.pending.push({
        test: this.test,
        file: message[1],
        line: Number(message[2]),
        message: message[3].trim()
      })
      return { message: true, done: [] }
    }
    const packageResult = PACKAGE_RESULT.exec(text)
    if (!packageResult) return { message: false, done: [] }
    const [, status, importPath] = packageResult
    if (status === 'FAIL') this.failedPackages.push(importPath)
    const done = this.pending
      .filter(p => status === 'FAIL' && this.failedTests.has(p.test))
      .map(p => ({ ...p, importPath }))
    this.pending = []
    this.failedTests.clear()
    this.test = null
    return { message: false, done }
  }
}

/** Where a package's files may be in the tree: k8s.io/kubernetes itself, else staging or vendor. */
export function packageDirectories(importPath: string): string[] {
  const own = 'k8s.io/kubernetes'
  if (importPath === own) return ['']
  if (importPath.startsWith(`${own}/`)) return [importPath.slice(own.length + 1)]
  return [`staging/src/${importPath}`, `vendor/${importPath}`]
}
