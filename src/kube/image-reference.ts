// Docker image references (distribution/reference grammar), checked before any work starts.

const DOMAIN =
  '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?'
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const REPOSITORY = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`)
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^sha256:[0-9a-f]{64}$/

export interface ImageReference {
  readonly repository: string
  readonly tag: string | null
  readonly digest: string | null
}

/** Splits `repository[:tag][@digest]`; null when it is not a valid reference. A registry port is not a tag. */
export function parseReference(ref: string): ImageReference | null {
  const [name, digest = null, ...extra] = ref.split('@')
  if (extra.length > 0 || (digest !== null && !DIGEST.test(digest))) return null
  const colon = name.lastIndexOf(':')
  const hasTag = colon > name.lastIndexOf('/')
  const repository = hasTag ? name.slice(0, colon) : name
  const tag = hasTag ? name.slice(colon + 1) : null
  if (!REPOSITORY.test(repository) || (tag !== null && !TAG.test(tag))) return null
  return { repository, tag, digest }
}

export const isReference = (ref: string): boolean => parseReference(ref) !== null
