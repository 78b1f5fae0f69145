// The version is stated in three places that must agree: package.json (which the log line and
// --version print), the newest CHANGELOG entry, and the major tag the README's uses: lines pin.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { ACTION_VERSION } from '../../src/version.js'

const read = (path: string): Promise<string> => readFile(new URL(`../../${path}`, import.meta.url), 'utf8')

describe('versioning', () => {
  it("the newest CHANGELOG entry is package.json's version", async () => {
    const { version } = JSON.parse(await read('package.json')) as { version: string }
    expect(ACTION_VERSION).toBe(version)
    const newest = /^## (\d+\.\d+\.\d+\S*)/m.exec(await read('CHANGELOG.md'))?.[1]
    expect(newest).toBe(version)
  })

  it("every uses: line of this action in the README pins the version's major tag", async () => {
    const pins = [...(await read('README.md')).matchAll(/uses: \S*kube-release-action@(\S+)/g)].map(m => m[1])
    expect(pins.length).toBeGreaterThan(0)
    expect(new Set(pins)).toEqual(new Set([`v${ACTION_VERSION.split('.')[0]}`]))
  })
})
