// Image references as Docker's distribution/reference grammar defines them: [domain[:port]/]path[:tag][@digest],
// path components lower case, tags [\w][\w.-]{0,127}, digests sha256:<64 lower-case hex>.
import { describe, expect, it } from 'vitest'
import { isReference, parseReference } from '../../../src/kube/image-reference.js'

const HEX = '0123456789abcdef'.repeat(4)
const DIGEST = `sha256:${HEX}`

describe('parseReference: valid references', () => {
  it.each([
    ['kube-cross', { repository: 'kube-cross', tag: null, digest: null }],
    [
      'registry.k8s.io/build-image/kube-cross:v1.31.0-go1.22.5-bullseye.0',
      {
        repository: 'registry.k8s.io/build-image/kube-cross',
        tag: 'v1.31.0-go1.22.5-bullseye.0',
        digest: null
      }
    ],
    // A registry port is not a tag.
    ['localhost:5000/x/y', { repository: 'localhost:5000/x/y', tag: null, digest: null }],
    // Tags may hold upper case letters.
    ['127.0.0.1:5000/x:V1.RC', { repository: '127.0.0.1:5000/x', tag: 'V1.RC', digest: null }],
    [`a/b@${DIGEST}`, { repository: 'a/b', tag: null, digest: DIGEST }],
    [`a/b:v1@${DIGEST}`, { repository: 'a/b', tag: 'v1', digest: DIGEST }],
    [
      'localhost:5000/a/b/go-runner:dev_1.2-3',
      { repository: 'localhost:5000/a/b/go-runner', tag: 'dev_1.2-3', digest: null }
    ],
    // Separators inside a path component: . _ __ and runs of -.
    ['a.b_c__d--e/f', { repository: 'a.b_c__d--e/f', tag: null, digest: null }],
    // A tag of 128 characters is the longest there is.
    [`x:${'t'.repeat(128)}`, { repository: 'x', tag: 't'.repeat(128), digest: null }]
  ])('%s', (ref, expected) => {
    expect(parseReference(ref)).toEqual(expected)
    expect(isReference(ref)).toBe(true)
  })
})

describe('parseReference: invalid references', () => {
  it.each([
    ['an empty string', ''],
    ['an empty tag', 'x:'],
    ['an empty tag after a registry port', 'localhost:5000/x:'],
    ['no repository before the tag', ':tag'],
    ['an empty path component', 'x//y'],
    ['a leading slash', '/x'],
    ['a trailing slash', 'x/y/'],
    ['an upper case path component', 'build-image/UPPER'],
    ['an upper case repository', 'Kube-Cross'],
    ['a space in the repository', 'kube cross'],
    ['a space in the tag', 'x:tag with space'],
    ['a command substitution', '$(id)'],
    ['a command substitution in the tag', 'x:$(id)'],
    ['a back-quoted command', 'x:`id`'],
    ['a shell separator', 'x;id'],
    ['a newline', 'x\ny'],
    ['a trailing newline', 'x\n'],
    ['a trailing newline after the tag', 'x:v1\n'],
    ['a tag longer than 128 characters', `x:${'t'.repeat(129)}`],
    ['a tag starting with a dot', 'x:.v1'],
    ['a tag starting with a dash', 'x:-v1'],
    ['a separator ending a path component', 'x-/y'],
    ['a digest that is too short', 'a/b@sha256:abc'],
    ['a digest in upper case hex', `a/b@sha256:${HEX.toUpperCase()}`],
    ['a digest of another algorithm name', `a/b@sha512:${HEX}`],
    ['a digest of 65 hex digits', `a/b@${DIGEST}0`],
    ['an empty digest', 'a/b@'],
    ['two digests', `a/b@${DIGEST}@${DIGEST}`]
  ])('%s: %j', (_what, ref) => {
    expect(parseReference(ref)).toBeNull()
    expect(isReference(ref)).toBe(false)
  })
})
