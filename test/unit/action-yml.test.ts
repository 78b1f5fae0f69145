// action.yml is the action's interface: every input the action reads (Input, read with core.getInput in
// src/action.ts) and every output it sets (Output) must be declared there with a description. The runner
// warns about undeclared inputs ("Unexpected input(s)") and workflow authors only see what is declared.
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Input, loadConfig } from '../../src/config.js'
import { Output } from '../../src/report/report.js'

const ACTION_YML = resolve(dirname(fileURLToPath(import.meta.url)), '../../action.yml')

/** The entries of a top-level mapping of action.yml (`inputs:` or `outputs:`), each with its own lines. */
function section(yml: string, name: string): Map<string, string[]> {
  const entries = new Map<string, string[]>()
  let inSection = false
  let current: string[] | null = null
  for (const line of yml.split('\n')) {
    if (/^\S/.test(line)) {
      inSection = line.trimEnd() === `${name}:`
      current = null
      continue
    }
    if (!inSection) continue
    const entry = /^ {2}([\w-]+):\s*$/.exec(line)
    if (entry) {
      current = []
      entries.set(entry[1], current)
    } else if (current && line.trim() !== '') current.push(line)
  }
  return entries
}

const yml = readFileSync(ACTION_YML, 'utf8')
const inputs = section(yml, 'inputs')
const outputs = section(yml, 'outputs')

/** An input's `default:`, unquoted; undefined when none is declared. */
function defaultOf(name: string): string | undefined {
  const line = inputs.get(name)?.find(l => /^\s+default:/.test(l))
  return line
    ?.replace(/^\s+default:\s*/, '')
    .trim()
    .replace(/^'(.*)'$/, '$1')
}

describe('action.yml', () => {
  it('parses: it has the inputs and outputs this test knows are there', () => {
    expect(inputs.has('mode')).toBe(true)
    expect(inputs.has('workspace')).toBe(true)
    expect(outputs.has('version')).toBe(true)
  })

  it.each(Object.values(Input))('declares the input %s, with a description', name => {
    expect([...inputs.keys()]).toContain(name)
    expect(inputs.get(name)?.some(l => /^\s+description:/.test(l))).toBe(true)
  })

  it.each(Object.values(Output))('declares the output %s, with a description', name => {
    expect([...outputs.keys()]).toContain(name)
    expect(outputs.get(name)?.some(l => /^\s+description:/.test(l))).toBe(true)
  })

  it.each([
    ['cache', 'true'],
    ['cache-save', 'on-success'],
    ['cache-dir', ''],
    ['cache-size-limit', '10G']
  ])('declares the default of %s: %j (README, Inputs)', (name, value) => {
    expect(defaultOf(name)).toBe(value)
  })

  // The runner passes a declared default as the input's value: it must mean what no value means.
  it("each cache input's declared default gives the config that no value gives", async () => {
    const tmp = await realpath(await mkdtemp(join(tmpdir(), 'kube-action-yml-')))
    try {
      const source = join(tmp, 'kubernetes')
      await mkdir(join(source, 'build/build-image/cross'), { recursive: true })
      await writeFile(join(source, 'build/build-image/cross/VERSION'), 'v1.36.0-go1.26.2-bullseye.0\n')
      await writeFile(join(source, 'Makefile'), 'all:\n')
      const none = await loadConfig({ source }, {}, tmp)
      for (const name of [Input.cache, Input.cacheSave, Input.cacheDir, Input.cacheSizeLimit]) {
        const declared = await loadConfig({ source, [name]: defaultOf(name) ?? '' }, {}, tmp)
        expect(declared.cache, name).toEqual(none.cache)
      }
    } finally {
      await rm(tmp, { recursive: true, force: true })
    }
  })
})
