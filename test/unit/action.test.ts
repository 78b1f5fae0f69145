import { afterEach, describe, expect, it, vi } from 'vitest'
import { ActionLogger } from '../../src/action.js'

describe('ActionLogger', () => {
  afterEach(() => vi.restoreAllMocks())

  function printed(message: string): string[] {
    const lines: string[] = []
    vi.spyOn(process.stdout, 'write').mockImplementation(chunk => {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      return true
    })
    new ActionLogger().info(message)
    return lines
  }

  it('prints ordinary lines as they are', () => {
    expect(printed('+++ running make cross')).toEqual(['+++ running make cross'])
  })

  it.each(['::error file=a.go::x', '  ::set-output name=version::v9', '##[error]x'])(
    'pauses workflow commands around %j so build output cannot inject one',
    line => {
      const lines = printed(line)
      expect(lines).toHaveLength(3)
      const token = /^::stop-commands::([0-9a-f]{32})$/.exec(lines[0])?.[1]
      expect(token).toBeDefined()
      expect(lines[1]).toBe(line)
      expect(lines[2]).toBe(`::${token}::`)
    }
  )
})
