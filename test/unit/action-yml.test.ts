// action.yml is the action's interface: every input the action reads (Input, read with core.getInput in
// src/action.ts) and every output it sets (Output) must be declared there with a description. The runner
// warns about undeclared inputs ("Unexpected input(s)") and workflow authors only see what is declared.
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config.js'
import { Input } from '../../src/inputs.js'
import { Output } from '../../src/report/report.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

interface Declared {
  description?: unknown
  default?: unknown
}
const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, Declared>
  outputs: Record<string, Declared>
}

/** The defaults column of the README's Inputs table, by input: a `literal`, or '' when the cell is empty. */
function readmeDefaults(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const table = readme.slice(readme.indexOf('### Inputs'))
  const rows = [...table.matchAll(/^\| `([\w-]+)` +\| ([^|]*?) *\|/gm)]
  return new Map(rows.map(([, name, cell]) => [name, cell.replace(/^`(.*)`$/, '$1')]))
}

const CACHE_INPUTS = [Input.cache, Input.cacheSave, Input.cacheDir, Input.cacheSizeLimit]

describe('action.yml', () => {
  it.each(Object.values(Input))('declares the input %s, with a description', name => {
    expect(Object.keys(action.inputs)).toContain(name)
    expect(action.inputs[name].description).toEqual(expect.stringMatching(/\S/))
  })

  it.each(Object.values(Output))('declares the output %s, with a description', name => {
    expect(Object.keys(action.outputs)).toContain(name)
    expect(action.outputs[name].description).toEqual(expect.stringMatching(/\S/))
  })

  it('declares the cache inputs with the defaults the README documents', () => {
    const documented = readmeDefaults()
    for (const name of CACHE_INPUTS) {
      expect(documented.has(name), `${name} in the README's Inputs table`).toBe(true)
      expect(String(action.inputs[name].default ?? ''), name).toBe(documented.get(name))
    }
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
      for (const name of CACHE_INPUTS) {
        const declared = await loadConfig(
          { source, [name]: String(action.inputs[name].default ?? '') },
          {},
          tmp
        )
        expect(declared.cache, name).toEqual(none.cache)
      }
    } finally {
      await rm(tmp, { recursive: true, force: true })
    }
  })
})
