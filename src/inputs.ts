// The inputs of action.yml (and the CLI's flags) by name, and the parsers of single values. Each
// parser is given the input it reads, so that its error names that input.
import { InputError } from './errors.js'
import { isReference } from './kube/image-reference.js'

/** Input names, spelled as in action.yml. */
export const Input = {
  mode: 'mode',
  platforms: 'platforms',
  targets: 'targets',
  runTests: 'run-tests',
  source: 'source',
  workspace: 'workspace',
  kubeCrossImage: 'kube-cross-image',
  verbose: 'verbose',
  outputDir: 'output-dir',
  serverImages: 'server-images',
  goRunnerImage: 'go-runner-image',
  kubeProxyBaseImage: 'kube-proxy-base-image',
  conformanceImage: 'conformance-image',
  windowsKubeProxyImage: 'windows-kube-proxy-image',
  upload: 'upload',
  artifactName: 'artifact-name',
  artifactLayout: 'artifact-layout',
  retentionDays: 'retention-days',
  cache: 'cache',
  cacheSave: 'cache-save',
  cacheDir: 'cache-dir',
  cacheSizeLimit: 'cache-size-limit',
  phase: 'phase',
  legs: 'legs'
} as const
export type InputName = (typeof Input)[keyof typeof Input]
export type RawInputs = Partial<Record<InputName, string>>

export const inputError = (input: InputName, problem: string): InputError =>
  new InputError(problem, { input })

export function oneOf<T extends string>(
  input: InputName,
  value: string,
  allowed: readonly T[],
  fallback: T
): T {
  if (value === '') return fallback
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw inputError(input, `'${value}' is not one of ${allowed.join(', ')}`)
}

export function parseBoolean(input: InputName, value: string, fallback: boolean): boolean {
  const v = value.toLowerCase()
  if (v === '') return fallback
  if (v === 'true') return true
  if (v === 'false') return false
  throw inputError(input, `'${value}' is not a boolean (true or false)`)
}

/** A path, relative or absolute, made of the characters paths are usually made of. */
export function parsePlainPath(input: InputName, value: string): string {
  if (!/^[\w./@+-]+$/.test(value) || value.length > 4096) {
    throw inputError(input, `'${value}' is not a plain path (letters, digits and . / _ - + @ only)`)
  }
  return value
}

/** A whole number from `min` to `max` of something (`of`); undefined when not given. */
export function parseCount(
  input: InputName,
  value: string,
  range: { readonly min: number; readonly max: number; readonly of: string }
): number | undefined {
  if (value === '') return undefined
  const count = /^[0-9]{1,9}$/.test(value) ? Number(value) : NaN
  if (!(count >= range.min && count <= range.max)) {
    throw inputError(input, `'${value}' is not a number of ${range.of} from ${range.min} to ${range.max}`)
  }
  return count
}

/** `512M`, `10G`, `1T` or a number of bytes. */
export function parseSize(input: InputName, value: string, fallback: number): number {
  if (value === '') return fallback
  const match = /^([0-9]{1,15})([KMGT]?)i?B?$/i.exec(value)
  if (!match || Number(match[1]) === 0)
    throw inputError(input, `'${value}' is not a size like 512M, 10G or a number of bytes`)
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[
    match[2].toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'
  ]
  return Number(match[1]) * unit
}

/** Artifact names may not hold what GitHub forbids in them. */
export function parseArtifactName(input: InputName, value: string): string | null {
  if (value === '') return null
  if (/[":<>|*?\\/\r\n]/.test(value) || value.length > 256) {
    throw inputError(
      input,
      `'${value}' holds a character artifact names may not (" : < > | * ? \\ / or a newline)`
    )
  }
  return value
}

/** KUBE_VERBOSE from which rsync itemises files and the action's own debug lines show. */
export const VERBOSE_LEVEL = 6

/** true/false, or a KUBE_VERBOSE level 0-10. Upstream's make default is 1. */
export function parseVerbosity(input: InputName, value: string): number {
  const v = value.toLowerCase()
  if (v === '' || v === 'false') return 1
  if (v === 'true') return VERBOSE_LEVEL
  if (/^([0-9]|10)$/.test(v)) return Number(v)
  throw inputError(input, `'${value}' is not true, false or a level from 0 to 10`)
}

export function parseImageReference(input: InputName, value: string): string | undefined {
  if (value === '') return undefined
  if (!isReference(value)) throw inputError(input, `'${value}' is not an image reference (repository[:tag])`)
  return value
}

/** Runs a kube/ parser, which knows the rules but not the input's name, and names the input in its errors. */
export async function forInput<T>(input: InputName, parse: () => T | Promise<T>): Promise<T> {
  try {
    return await parse()
  } catch (err) {
    if (err instanceof InputError && err.input === undefined) throw inputError(input, err.message)
    throw err
  }
}
