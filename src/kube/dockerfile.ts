// The simple Dockerfiles of the tree's images (test/conformance/image/Dockerfile,
// build/server-image/kube-proxy/Dockerfile_windows) read into what they ask for: a base image, files
// to copy in, and changes to the image config. Anything that needs code run for the target platform
// (RUN), another stage or the network is refused, naming the line: no buildx, no emulation here.
import {
  DockerfileParser,
  type Add,
  type Copy,
  type Entrypoint,
  type Instruction,
  type JSONInstruction,
  type PropertyInstruction
} from 'dockerfile-ast'
import { posix } from 'node:path'
import { ReleaseError } from '../errors.js'

/** COPY (or ADD of local files): sources in the build context, absolute destination in the image. */
export interface CopyStep {
  readonly kind: 'copy'
  readonly instruction: string
  readonly sources: readonly string[]
  /** Absolute; a trailing `/` means "into this directory". */
  readonly dest: string
  /** --chmod, when given. */
  readonly mode?: number
  /** ADD: a local archive would be unpacked, which is refused. */
  readonly refuseArchives: boolean
}

/** What an instruction changes in the image config, as a Dockerfile does. */
export interface ConfigChange {
  readonly env?: readonly (readonly [string, string])[]
  readonly entrypoint?: readonly string[]
  readonly cmd?: readonly string[]
  readonly workingDir?: string
  readonly labels?: Readonly<Record<string, string>>
  readonly user?: string
  readonly exposedPorts?: readonly string[]
  readonly volumes?: readonly string[]
  readonly stopSignal?: string
  readonly shell?: readonly string[]
}

export interface ConfigStep {
  readonly kind: 'config'
  readonly instruction: string
  readonly change: ConfigChange
}

export type RecipeStep = CopyStep | ConfigStep

export interface ImageRecipe {
  /** The FROM image, its variables expanded. */
  readonly base: string
  readonly steps: readonly RecipeStep[]
}

export interface DockerfileContext {
  /** Named in errors, e.g. test/conformance/image/Dockerfile. */
  readonly path: string
  /** --build-arg values. */
  readonly buildArgs: Readonly<Record<string, string>>
  /** `os/arch` the image is for: TARGETPLATFORM and friends, and the shell of shell-form commands. */
  readonly platform: string
}

/** Instructions that only set config and are taken as they are. */
const SHELL_FORM_PREFIX = { linux: ['/bin/sh', '-c'], windows: ['cmd', '/S', '/C'] } as const

/** The instruction as written (continuation lines joined), for history entries and messages. */
const written = (line: Instruction): string =>
  `${line.getInstruction()} ${line.getRawArgumentsContent() ?? ''}`.replace(/\\?\n\s*/g, ' ').trim()

function unsupported(ctx: DockerfileContext, line: Instruction, why: string): ReleaseError {
  const at = `${ctx.path}:${line.getRange().start.line + 1}`
  return new ReleaseError(`${at}: '${written(line)}': ${why}`, {
    fix: 'The action writes images without buildx or emulation; keep the Dockerfile to FROM, ARG, COPY, ENV, ENTRYPOINT, CMD, WORKDIR, LABEL, USER, EXPOSE, VOLUME, STOPSIGNAL and SHELL'
  })
}

/**
 * Expands $NAME, ${NAME}, ${NAME:-word}, ${NAME-word}, ${NAME:+word} and ${NAME+word} as Docker
 * does in the instructions that expand variables; `\$` is a literal dollar.
 */
export function expandVariables(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(
    /\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced: string | undefined, operator: string | undefined, word: string | undefined, bare) => {
      if (match === '\\$') return '$'
      const value = lookup(braced ?? bare)
      const set = operator?.startsWith(':') ? value !== undefined && value !== '' : value !== undefined
      if (operator?.endsWith('-')) return set ? value! : expandVariables(word ?? '', lookup)
      if (operator?.endsWith('+')) return set ? expandVariables(word ?? '', lookup) : ''
      return value ?? ''
    }
  )
}

/** The automatic platform ARGs BuildKit gives a build; the build runs here, on linux/amd64 or the engine's. */
function platformArgs(platform: string): Record<string, string> {
  const [os, arch, variant = ''] = platform.split('/')
  return {
    TARGETPLATFORM: platform,
    TARGETOS: os,
    TARGETARCH: arch,
    TARGETVARIANT: variant,
    BUILDPLATFORM: platform,
    BUILDOS: os,
    BUILDARCH: arch,
    BUILDVARIANT: variant
  }
}

/** The argv of ENTRYPOINT, CMD or SHELL: the JSON form as it is, the shell form through the shell. */
function commandLine(instruction: JSONInstruction, shell: readonly string[]): string[] {
  const json = instruction.getJSONStrings()
  if (json.length > 0 || /^\s*\[/.test(instruction.getRawArgumentsContent() ?? '')) {
    return json.map(s => s.getJSONValue())
  }
  const text = instruction.getArgumentsContent()
  return text ? [...shell, text] : []
}

/** An image path as Linux writes it: Windows drive letters and backslashes become plain paths. */
function imagePath(path: string, windows: boolean): string {
  return windows ? path.replace(/^[a-zA-Z]:/, '').replace(/\\/g, '/') : path
}

function parseMode(ctx: DockerfileContext, line: Instruction, value: string): number {
  if (!/^[0-7]{3,4}$/.test(value)) throw unsupported(ctx, line, `--chmod=${value} is not an octal mode`)
  return parseInt(value, 8)
}

/** Reads a Dockerfile of one stage into the recipe of its image. */
export function interpretDockerfile(text: string, ctx: DockerfileContext): ImageRecipe {
  const dockerfile = DockerfileParser.parse(text)
  const windows = ctx.platform.startsWith('windows/')
  const automatic = platformArgs(ctx.platform)
  /** ARGs in scope: before FROM the global ones, after it those the stage declares. */
  let args = new Map<string, string | undefined>()
  const globalArgs = new Map<string, string | undefined>()
  const env = new Map<string, string>()
  const lookup = (name: string): string | undefined => env.get(name) ?? args.get(name)
  let base: string | null = null
  let workdir = '/'
  let shell: readonly string[] = windows ? SHELL_FORM_PREFIX.windows : SHELL_FORM_PREFIX.linux
  const steps: RecipeStep[] = []
  const config = (line: Instruction, change: ConfigChange): void => {
    steps.push({ kind: 'config', instruction: written(line), change })
  }
  const expanded = (line: Instruction): string[] =>
    line.getArguments().map(a => expandVariables(a.getValue(), lookup))
  const properties = (line: Instruction): [string, string][] =>
    (line as PropertyInstruction)
      .getProperties()
      .map(p => [expandVariables(p.getName(), lookup), expandVariables(p.getValue() ?? '', lookup)])

  for (const line of dockerfile.getInstructions()) {
    const keyword = line.getKeyword()
    if (base === null && keyword !== 'ARG' && keyword !== 'FROM') {
      throw unsupported(ctx, line, 'comes before FROM')
    }
    switch (keyword) {
      case 'ARG':
        for (const property of (line as PropertyInstruction).getProperties()) {
          const name = property.getName()
          const fallback =
            property.getValue() === null ? undefined : expandVariables(property.getValue()!, lookup)
          const inherited = base === null ? undefined : globalArgs.get(name)
          const value = ctx.buildArgs[name] ?? automatic[name] ?? inherited ?? fallback
          args.set(name, value)
          if (base === null) globalArgs.set(name, value)
        }
        break
      case 'FROM': {
        if (base !== null) throw unsupported(ctx, line, 'a second stage needs a multi-stage build')
        const flags = (line as unknown as { getFlags(): { getName(): string }[] }).getFlags()
        if (flags.length > 0) throw unsupported(ctx, line, `FROM --${flags[0].getName()} is not supported`)
        const [image] = expanded(line)
        if (!image) throw unsupported(ctx, line, 'names no image (is its build argument set?)')
        if (image === 'scratch')
          throw unsupported(ctx, line, 'an image from scratch has no base to start from')
        base = image
        args = new Map()
        break
      }
      case 'COPY':
      case 'ADD': {
        const instruction = line as Copy | Add
        let mode: number | undefined
        for (const flag of instruction.getFlags()) {
          const name = flag.getName()
          if (name === 'chmod') mode = parseMode(ctx, line, flag.getValue() ?? '')
          else if (name !== 'link') throw unsupported(ctx, line, `--${name} is not supported`)
        }
        const json = instruction.getJSONStrings()
        const words =
          json.length > 0 ? json.map(s => expandVariables(s.getJSONValue(), lookup)) : expanded(line)
        if (words.length < 2) throw unsupported(ctx, line, 'needs a source and a destination')
        const sources = words.slice(0, -1)
        if (sources.includes('')) {
          throw unsupported(
            ctx,
            line,
            'a source is empty once its variables are expanded (an ARG declared before FROM must be declared again after it)'
          )
        }
        if (keyword === 'ADD' && sources.some(s => /^[a-z][a-z0-9+.-]*:\/\//i.test(s))) {
          throw unsupported(ctx, line, 'a URL source needs the network at build time')
        }
        if (sources.some(s => /[*?[]/.test(s))) throw unsupported(ctx, line, 'wildcards are not supported')
        const rawDest = imagePath(words[words.length - 1], windows)
        const dest = rawDest.startsWith('/')
          ? rawDest
          : posix.join(workdir, rawDest) + (rawDest.endsWith('/') ? '/' : '')
        steps.push({
          kind: 'copy',
          instruction: written(line),
          sources,
          dest,
          mode,
          refuseArchives: keyword === 'ADD'
        })
        break
      }
      case 'ENV': {
        // Every value is expanded before any is set, as in one ENV instruction.
        const pairs = properties(line)
        for (const [name, value] of pairs) env.set(name, value)
        config(line, { env: pairs })
        break
      }
      case 'LABEL':
        config(line, { labels: Object.fromEntries(properties(line)) })
        break
      case 'ENTRYPOINT':
        config(line, { entrypoint: commandLine(line as Entrypoint, shell) })
        break
      case 'CMD':
        config(line, { cmd: commandLine(line as JSONInstruction, shell) })
        break
      case 'SHELL':
        shell = commandLine(line as JSONInstruction, [])
        config(line, { shell })
        break
      case 'WORKDIR': {
        const path = imagePath(expanded(line).join(' '), windows)
        workdir = posix.resolve(workdir, path)
        config(line, { workingDir: workdir })
        break
      }
      case 'USER':
        config(line, { user: expanded(line).join(' ') })
        break
      case 'EXPOSE':
        config(line, { exposedPorts: expanded(line).map(p => (p.includes('/') ? p : `${p}/tcp`)) })
        break
      case 'VOLUME': {
        const json = (line as JSONInstruction).getJSONStrings()
        config(line, { volumes: json.length > 0 ? json.map(s => s.getJSONValue()) : expanded(line) })
        break
      }
      case 'STOPSIGNAL':
        config(line, { stopSignal: expanded(line).join(' ') })
        break
      case 'RUN':
        throw unsupported(ctx, line, `RUN runs code for ${ctx.platform}, which needs buildx or emulation`)
      default:
        throw unsupported(ctx, line, `${keyword} is not supported`)
    }
  }
  if (base === null) throw new ReleaseError(`${ctx.path} has no FROM instruction`)
  return { base, steps }
}
