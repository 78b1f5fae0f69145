import { describe, expect, it } from 'vitest'
import { binariesArtifactName, planMatrix } from '../../../src/kube/matrix.js'

const ALL = [
  ...['linux/amd64', 'linux/386', 'linux/arm', 'linux/arm64', 'linux/s390x', 'linux/ppc64le'],
  ...['darwin/amd64', 'darwin/arm64', 'windows/amd64', 'windows/386', 'windows/arm64']
]

describe('planMatrix', () => {
  it('puts every platform in exactly one leg', () => {
    const legs = planMatrix(ALL, null, 4)
    expect(legs).toHaveLength(4)
    expect(legs.flat().sort()).toEqual([...ALL].sort())
  })

  it('never makes more legs than platforms, nor an empty leg', () => {
    const legs = planMatrix(['linux/amd64', 'darwin/arm64'], null, 5)
    expect(legs).toHaveLength(2)
    for (const leg of legs) expect(leg.length).toBeGreaterThan(0)
  })

  it('gives the four server platforms (the heaviest) to different legs when there are four legs', () => {
    const legs = planMatrix(ALL, null, 4)
    const servers = ['linux/amd64', 'linux/arm64', 'linux/s390x', 'linux/ppc64le']
    for (const leg of legs) expect(leg.filter(p => servers.includes(p)).length).toBe(1)
  })

  it('one leg holds everything', () => {
    expect(planMatrix(ALL, null, 1)).toEqual([[...ALL].sort()])
  })
})

describe('binariesArtifactName', () => {
  it('names the platforms, sorted, so the leg and the package job agree', () => {
    expect(binariesArtifactName(['windows/amd64', 'darwin/arm64'])).toBe(
      'kube-release-bin-darwin-arm64_windows-amd64'
    )
    expect(binariesArtifactName(['darwin/arm64', 'windows/amd64'])).toBe(
      binariesArtifactName(['windows/amd64', 'darwin/arm64'])
    )
  })
})
