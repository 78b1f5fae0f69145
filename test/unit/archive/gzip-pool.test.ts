// The compression pool's failures keep the error code of the worker's file operation, which callers
// tell failures apart by (a full disk is ENOSPC).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { GzipPool } from '../../../src/archive/gzip-pool.js'

let tmp: string
let pool: GzipPool
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-gzip-pool-'))
  pool = new GzipPool(1)
})
afterEach(async () => {
  await pool.close()
  await rm(tmp, { recursive: true, force: true })
})

it('a failed write in a worker rejects with the code of the file operation', async () => {
  const dest = join(tmp, 'no-such-dir', 'piece.gz')
  await expect(pool.compress({ bytes: Buffer.from('x') }, dest, 6)).rejects.toMatchObject({
    code: 'ENOENT',
    message: expect.stringContaining(dest)
  })
})

it('a missing source file rejects with ENOENT, and the pool goes on', async () => {
  const source = { path: join(tmp, 'gone'), offset: 0, length: 1, fileSize: 1 }
  await expect(pool.hash(source)).rejects.toMatchObject({ code: 'ENOENT' })
  expect(await pool.hash({ bytes: Buffer.from('x') })).toMatch(/^[0-9a-f]{64}$/)
})
