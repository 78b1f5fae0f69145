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

/** What `fn` writes to stdout, line by line (@actions/core prints workflow commands there). */
function captured(fn: () => void): string[] {
  const lines: string[] = []
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    lines.push(...String(chunk).split('\n').filter(Boolean))
    return true
  })
  try {
    fn()
  } finally {
    spy.mockRestore()
  }
  return lines
}

describe('ActionLogger: debug', () => {
  afterEach(() => vi.restoreAllMocks())

  it('verbose: debug lines are printed as ordinary lines, "debug: …"', () => {
    expect(captured(() => new ActionLogger(true).debug('rsync itemised 12 files'))).toEqual([
      'debug: rsync itemised 12 files'
    ])
  })

  it('not verbose: debug lines go to the runner’s step debug log (::debug::)', () => {
    expect(captured(() => new ActionLogger(false).debug('rsync itemised 12 files'))).toEqual([
      '::debug::rsync itemised 12 files'
    ])
  })

  it('not verbose by default', () => {
    expect(captured(() => new ActionLogger().debug('x'))).toEqual(['::debug::x'])
  })

  it('verbose: a debug line that looks like a command is not one', () => {
    const lines = captured(() => new ActionLogger(true).debug('::set-output name=version::v9'))
    for (const line of lines) expect(line).not.toMatch(/^\s*::set-output/)
  })
})

describe('ActionLogger: annotate', () => {
  afterEach(() => vi.restoreAllMocks())

  it('an error annotation titled Go on the file, line and column', () => {
    const lines = captured(() =>
      new ActionLogger().annotate({
        message: 'undefined: foo',
        file: 'pkg/kubelet/kubelet.go',
        line: 12,
        column: 7
      })
    )
    expect(lines).toEqual(['::error title=Go,file=pkg/kubelet/kubelet.go,line=12,col=7::undefined: foo'])
  })

  it('without a column: file and line only', () => {
    const lines = captured(() =>
      new ActionLogger().annotate({ message: 'vet: unreachable code', file: 'cmd/kubectl/main.go', line: 3 })
    )
    expect(lines).toEqual(['::error title=Go,file=cmd/kubectl/main.go,line=3::vet: unreachable code'])
  })

  it('a message with a newline stays one command: build output cannot add a second', () => {
    const lines = captured(() =>
      new ActionLogger().annotate({ message: 'x\n::set-output name=version::v9', file: 'a.go', line: 1 })
    )
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^::error title=Go,file=a\.go,line=1::/)
  })
})

describe('ActionLogger: mask', () => {
  afterEach(() => vi.restoreAllMocks())

  it('registers the secret with the runner (::add-mask::)', () => {
    expect(captured(() => new ActionLogger().mask('s3cr3t-pa55word'))).toEqual([
      '::add-mask::s3cr3t-pa55word'
    ])
  })
})
