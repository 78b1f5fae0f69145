// git in the tree, for what the tree's history says (version, src archive).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** `git args` run in `root`: its standard output as written. */
export async function git(root: string, args: readonly string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd: root, maxBuffer: 64 * 1024 * 1024 })
  return stdout
}
