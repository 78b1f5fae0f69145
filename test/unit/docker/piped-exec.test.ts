import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { markedCommand } from '../../../src/docker/piped-exec.js'

describe('markedCommand', () => {
  it('writes the one start byte, then becomes the command with its arguments as given', async () => {
    const [shell, ...args] = markedCommand(['printf', '%s|', 'two words', "it's", '$HOME'])
    const { stdout } = await promisify(execFile)(shell, args, { encoding: 'buffer' })
    expect([...stdout.subarray(0, 1)]).toEqual([0x06])
    expect(stdout.subarray(1).toString()).toBe("two words|it's|$HOME|")
  })

  it('reports a command the image lacks after the start byte: a command that ran and failed, not an engine fault', async () => {
    const [shell, ...args] = markedCommand(['no-such-command-here'])
    const run = promisify(execFile)(shell, args, { encoding: 'buffer' })
    const failed = (await run.then(
      () => null,
      (err: unknown) => err
    )) as { code: number; stdout: Buffer } | null
    expect(failed?.code).toBe(127)
    expect([...failed!.stdout]).toEqual([0x06])
  })
})
