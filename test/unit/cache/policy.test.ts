// When caches are saved (src/cache/policy.ts, input cache-save): never (read-only), always, on-success
// (the default), default-branch (successful runs of the repository's default branch only, which the
// runner gives in the event payload at GITHUB_EVENT_PATH; the run's ref is GITHUB_REF).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { saveDecision } from '../../../src/cache/policy.js'
import { SAVE_POLICIES, type SavePolicy } from '../../../src/config.js'

let tmp: string
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-cache-policy-'))
})
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true })
})

/** Writes an event payload file and returns its path. */
async function eventFile(payload: unknown, raw?: string): Promise<string> {
  const file = join(tmp, `event-${Math.random().toString(36).slice(2)}.json`)
  await writeFile(file, raw ?? JSON.stringify(payload))
  return file
}

/** The env of a run of `ref` in a repository whose default branch is `defaultBranch`. */
async function runOf(ref: string, defaultBranch = 'main'): Promise<NodeJS.ProcessEnv> {
  const path = await eventFile({
    ref,
    repository: { full_name: 'o/r', default_branch: defaultBranch },
    sender: { login: 'u' }
  })
  return { GITHUB_REF: ref, GITHUB_EVENT_PATH: path }
}

/** A reason a person can read: words, not a value that leaked into a template. */
function expectReadable(reason: string): void {
  expect(reason.trim().length).toBeGreaterThan(5)
  expect(reason).toMatch(/[a-z]+ [a-z]+/i)
  expect(reason).not.toMatch(/undefined|null|NaN|\[object/)
}

type Decision = ReturnType<typeof saveDecision>
const reasonOf = (d: Decision): string => {
  expect(d.save).toBe(false)
  return d.save ? '' : d.reason
}

describe('saveDecision', () => {
  it('knows exactly the four documented policies', () => {
    expect([...SAVE_POLICIES].sort()).toEqual(['always', 'default-branch', 'never', 'on-success'])
  })

  describe('never', () => {
    it.each([true, false])(
      'does not save (succeeded: %s), saying the cache is read-only',
      async succeeded => {
        const d = saveDecision('never', succeeded, await runOf('refs/heads/main'))
        const reason = reasonOf(d)
        expectReadable(reason)
        expect(reason).toMatch(/never|read-only/)
      }
    )
  })

  describe('always', () => {
    it.each([true, false])('saves (succeeded: %s)', succeeded => {
      expect(saveDecision('always', succeeded, {})).toEqual({ save: true })
    })

    it('saves on any branch, even after a failure', async () => {
      expect(saveDecision('always', false, await runOf('refs/heads/feature'))).toEqual({ save: true })
    })
  })

  describe('on-success', () => {
    it('saves after a successful run', () => {
      expect(saveDecision('on-success', true, {})).toEqual({ save: true })
    })

    it('saves after a successful run of any branch', async () => {
      expect(saveDecision('on-success', true, await runOf('refs/heads/feature'))).toEqual({ save: true })
    })

    it('does not save after a failed run, saying it failed', () => {
      const reason = reasonOf(saveDecision('on-success', false, {}))
      expectReadable(reason)
      expect(reason).toMatch(/fail/i)
    })
  })

  describe('default-branch', () => {
    it('saves a successful run of the default branch', async () => {
      expect(saveDecision('default-branch', true, await runOf('refs/heads/main'))).toEqual({ save: true })
    })

    it.each(['master', 'release-1.31', 'dev/next'])(
      'the default branch is the payload’s: %s',
      async branch => {
        expect(saveDecision('default-branch', true, await runOf(`refs/heads/${branch}`, branch))).toEqual({
          save: true
        })
      }
    )

    it('reads the env it is given, not process.env', async () => {
      const env = await runOf('refs/heads/main')
      const saved = { ref: process.env.GITHUB_REF, path: process.env.GITHUB_EVENT_PATH }
      process.env.GITHUB_REF = 'refs/heads/feature'
      delete process.env.GITHUB_EVENT_PATH
      try {
        expect(saveDecision('default-branch', true, env)).toEqual({ save: true })
      } finally {
        if (saved.ref === undefined) delete process.env.GITHUB_REF
        else process.env.GITHUB_REF = saved.ref
        if (saved.path !== undefined) process.env.GITHUB_EVENT_PATH = saved.path
      }
    })

    it('does not save a failed run of the default branch, saying it failed', async () => {
      const reason = reasonOf(saveDecision('default-branch', false, await runOf('refs/heads/main')))
      expectReadable(reason)
      expect(reason).toMatch(/fail/i)
    })

    it.each([
      ['another branch', 'refs/heads/feature'],
      ['a branch whose name ends like the default', 'refs/heads/not-main'],
      ['a branch under a folder named like the default', 'refs/heads/main/next'],
      ['a branch in a folder, named like the default', 'refs/heads/users/main'],
      ['a tag named like the default branch', 'refs/tags/main'],
      ['a pull request', 'refs/pull/42/merge']
    ])('does not save %s (%s), saying it is not the default branch', async (_what, ref) => {
      const reason = reasonOf(saveDecision('default-branch', true, await runOf(ref)))
      expectReadable(reason)
      expect(reason).toMatch(/default[ -]branch/)
    })

    it('does not save when GITHUB_REF is not set', async () => {
      const env = await runOf('refs/heads/main')
      delete env.GITHUB_REF
      expectReadable(reasonOf(saveDecision('default-branch', true, env)))
    })

    it('does not save when GITHUB_EVENT_PATH is not set', () => {
      expectReadable(reasonOf(saveDecision('default-branch', true, { GITHUB_REF: 'refs/heads/main' })))
    })

    it('does not save when the event file is missing', () => {
      const env = { GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_PATH: join(tmp, 'no-such-event.json') }
      expectReadable(reasonOf(saveDecision('default-branch', true, env)))
    })

    it('does not save when the event path is a directory', async () => {
      const dir = join(tmp, 'event-dir')
      await mkdir(dir)
      expectReadable(
        reasonOf(
          saveDecision('default-branch', true, { GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_PATH: dir })
        )
      )
    })

    it.each([
      ['not JSON', undefined, '{"repository": {"default_branch": "main"'],
      ['empty', undefined, ''],
      ['null', null, undefined],
      ['an array', [], undefined],
      ['a string', 'main', undefined],
      ['without a repository (a schedule-like payload)', { schedule: '0 0 * * *' }, undefined],
      ['a repository without default_branch', { repository: { full_name: 'o/r' } }, undefined],
      ['a repository that is not an object', { repository: 'o/r' }, undefined],
      ['an empty default_branch', { repository: { default_branch: '' } }, undefined]
    ])('does not save, and does not throw, when the event payload is %s', async (_what, payload, raw) => {
      const env = { GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_PATH: await eventFile(payload, raw) }
      let d: Decision | undefined
      expect(() => (d = saveDecision('default-branch', true, env))).not.toThrow()
      expectReadable(reasonOf(d as Decision))
    })

    it('an empty default_branch does not make refs/heads/ the default branch', async () => {
      const env = {
        GITHUB_REF: 'refs/heads/',
        GITHUB_EVENT_PATH: await eventFile({ repository: { default_branch: '' } })
      }
      expect(saveDecision('default-branch', true, env).save).toBe(false)
    })
  })

  it.each(SAVE_POLICIES.map(p => [p]))(
    '%s: a run with no GitHub env at all decides without throwing',
    policy => {
      for (const succeeded of [true, false]) {
        const d = saveDecision(policy as SavePolicy, succeeded, {})
        if (!d.save) expectReadable(d.reason)
      }
    }
  )
})
