// The server images' base images as the tree's own build/common.sh declares them (kube-build-flow.md
// §3.5): legacy trees use go-runner and distroless-iptables v0.5.7, trees from v1.35 distroless static
// for statically linked commands and distroless-iptables v0.8.7 for the rest. Nothing of the tree is
// run: its top-level assignments are read and expanded the way bash would, environment included.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

export const COMMON_SH = 'build/common.sh'

/** A value and the environment variables (set, non-empty) that went into it. */
interface Expanded {
  readonly text: string
  readonly fromEnv: ReadonlySet<string>
}

/** What the tree's common.sh says a variable is, or why it cannot be read. */
export type TreeValue = Expanded | { readonly unreadable: string }

/** §4 KUBE_STATIC_BINARIES: built with CGO_ENABLED=0, so __default_base_image picks the static base. */
const STATIC_BINARIES = new Set([
  'apiextensions-apiserver',
  'kube-aggregator',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'kube-log-runner',
  'kubeadm',
  'kubectl',
  'kubectl-convert',
  'kubemark',
  'mounter'
])

class Unreadable extends Error {}

/** hack/lib/golang.sh is_statically_linked: KUBE_CGO_OVERRIDES wins, then the list and KUBE_STATIC_OVERRIDES. */
function isStaticallyLinked(binary: string, env: NodeJS.ProcessEnv): boolean {
  const words = (name: string): string[] => (env[name] ?? '').split(/\s+/).filter(Boolean)
  if (words('KUBE_CGO_OVERRIDES').includes(binary)) return false
  return STATIC_BINARIES.has(binary) || words('KUBE_STATIC_OVERRIDES').includes(binary)
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/
const ASSIGNMENT = /^\s*(?:readonly\s+|export\s+|declare\s+-r\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/
const FUNCTION_START = /^\s*(?:function\s+)?([\w:]+)\s*\(\)\s*\{\s*$/

/** The shell variables of one build/common.sh, expanded in order as sourcing it would. */
export class CommonSh {
  private readonly values = new Map<string, TreeValue>()
  private readonly functions = new Map<string, string[]>()
  /** Environment variables the file reads, set or not. */
  readonly consulted = new Set<string>()

  constructor(
    text: string,
    private readonly env: NodeJS.ProcessEnv
  ) {
    let inFunction: string[] | null = null
    for (const line of text.split('\n')) {
      if (inFunction) {
        if (/^\}\s*$/.test(line)) inFunction = null
        else inFunction.push(line)
        continue
      }
      const start = FUNCTION_START.exec(line)
      if (start) {
        inFunction = []
        this.functions.set(start[1], inFunction)
        continue
      }
      const assignment = ASSIGNMENT.exec(line)
      if (!assignment) continue
      const [, name, value] = assignment
      try {
        this.values.set(name, this.word(value))
      } catch (err) {
        if (!(err instanceof Unreadable)) throw err
        this.values.set(name, { unreadable: `${name}=${value.trim()}: ${err.message}` })
      }
    }
  }

  /** The variable as the file leaves it; undefined when the file does not assign it. */
  value(name: string): TreeValue | undefined {
    return this.values.get(name)
  }

  private lookup(name: string): Expanded {
    const own = this.values.get(name)
    if (own) {
      if ('unreadable' in own) throw new Unreadable(`it uses ${own.unreadable}`)
      return own
    }
    this.consulted.add(name)
    const text = this.env[name] ?? ''
    return { text, fromEnv: new Set(text === '' ? [] : [name]) }
  }

  /** One shell word (quotes, $NAME, ${NAME}, ${NAME:-word}, $(function arg)); a comment may follow. */
  private word(source: string): Expanded {
    const { value, rest } = this.expand(source, 0, ' \t')
    if (!/^\s*(#.*)?$/.test(source.slice(rest))) throw new Unreadable('more than one word')
    return value
  }

  /** Expands from `at` up to an unquoted character of `stops`; returns where it stopped. */
  private expand(source: string, at: number, stops: string): { value: Expanded; rest: number } {
    let text = ''
    const fromEnv = new Set<string>()
    const add = (part: Expanded): void => {
      text += part.text
      part.fromEnv.forEach(n => fromEnv.add(n))
    }
    let quoted = false
    let i = at
    while (i < source.length) {
      const c = source[i]
      if (!quoted && stops.includes(c)) break
      if (c === '"') {
        quoted = !quoted
        i++
      } else if (c === "'" && !quoted) {
        const end = source.indexOf("'", i + 1)
        if (end < 0) throw new Unreadable('an unterminated quote')
        text += source.slice(i + 1, end)
        i = end + 1
      } else if (c === '\\') {
        text += source[i + 1] ?? ''
        i += 2
      } else if (c === '$') {
        const { value, rest } = this.expansion(source, i + 1)
        add(value)
        i = rest
      } else {
        text += c
        i++
      }
    }
    if (quoted) throw new Unreadable('an unterminated quote')
    return { value: { text, fromEnv }, rest: i }
  }

  private expansion(source: string, at: number): { value: Expanded; rest: number } {
    if (source[at] === '(') {
      const end = source.indexOf(')', at)
      if (end < 0) throw new Unreadable('an unterminated command substitution')
      return { value: this.call(source.slice(at + 1, end).trim()), rest: end + 1 }
    }
    if (source[at] === '{') {
      const name = NAME.exec(source.slice(at + 1))?.[0]
      if (!name) throw new Unreadable('an expansion this action does not read')
      let i = at + 1 + name.length
      const operator = /^:?-/.exec(source.slice(i))?.[0]
      if (operator === undefined) {
        if (source[i] !== '}') throw new Unreadable('an expansion this action does not read')
        return { value: this.lookup(name), rest: i + 1 }
      }
      i += operator.length
      const { value: fallback, rest } = this.expand(source, i, '}')
      if (source[rest] !== '}') throw new Unreadable('an unterminated expansion')
      const own = this.lookup(name)
      // ${NAME:-word} replaces an empty value too; ${NAME-word} only an unset one.
      const unset =
        operator === ':-' ? own.text === '' : !this.values.has(name) && this.env[name] === undefined
      return { value: unset ? fallback : own, rest: rest + 1 }
    }
    const name = NAME.exec(source.slice(at))?.[0]
    if (!name) return { value: { text: '$', fromEnv: new Set() }, rest: at }
    return { value: this.lookup(name), rest: at + name.length }
  }

  /**
   * `$(__default_base_image <package>)` of common.sh from v1.35: its body echoes one image when
   * kube::golang::is_statically_linked says so, the other otherwise. Other commands are not run.
   */
  private call(command: string): Expanded {
    const [fn, arg, ...more] = command.split(/\s+/)
    const body = this.functions.get(fn)
    if (!body || arg === undefined || more.length > 0) throw new Unreadable(`it runs $(${command})`)
    const condition = body.some(l =>
      /^\s*if\s+kube::golang::is_statically_linked\s+"?\$1"?\s*;\s*then\s*$/.test(l)
    )
    const echoes = body.map(l => /^\s*echo\s+(.+)$/.exec(l)?.[1]).filter(e => e !== undefined)
    if (!condition || echoes.length !== 2) throw new Unreadable(`${fn} is not the function this action knows`)
    const binary =
      arg
        .replace(/^["']|["']$/g, '')
        .split('/')
        .pop() ?? ''
    return this.word(echoes[isStaticallyLinked(binary, this.env) ? 0 : 1])
  }
}

/** The tree's build/common.sh, or null when it has none. */
export async function readCommonSh(root: string, env: NodeJS.ProcessEnv): Promise<CommonSh | null> {
  try {
    return new CommonSh(await readFile(join(root, COMMON_SH), 'utf8'), env)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}
