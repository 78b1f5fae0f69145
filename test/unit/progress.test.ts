// Progress reports: one line per interval while a step runs (bytes, total when known, rate over the
// interval), none for a step shorter than the interval, none after stop.
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { formatBytes, startProgress } from '../../src/progress.js'
import { recordingLog } from '../helpers/fake-engine.js'

const MiB = 1024 ** 2

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('formatBytes', () => {
  it('uses binary units with at most three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(412 * MiB)).toBe('412 MiB')
    expect(formatBytes(38.25 * MiB)).toBe('38.3 MiB')
    expect(formatBytes(1.2 * 1024 * MiB)).toBe('1.2 GiB')
  })
})

describe('startProgress', () => {
  it('reports bytes, the total and the rate of the last interval at each interval', () => {
    const { log, at } = recordingLog()
    const progress = startProgress('cache upload', log, { total: 1024 * MiB, intervalMs: 10_000 })
    progress.add(380 * MiB)
    vi.advanceTimersByTime(10_000)
    progress.add(32 * MiB)
    vi.advanceTimersByTime(10_000)
    progress.stop()
    expect(at('info')).toEqual([
      'cache upload: 380 MiB of 1 GiB, 38 MiB/s',
      'cache upload: 412 MiB of 1 GiB, 3.2 MiB/s'
    ])
  })

  it('logs nothing for a step shorter than the interval, nor after stop', () => {
    const { log, lines } = recordingLog()
    const progress = startProgress('sync', log, { intervalMs: 10_000 })
    progress.add(5 * MiB)
    vi.advanceTimersByTime(9_999)
    progress.stop()
    vi.advanceTimersByTime(60_000)
    expect(lines).toEqual([])
  })

  it('takes the bytes and a total learnt later from set', () => {
    const { log, at } = recordingLog()
    const progress = startProgress('pulling kube-cross', log, { intervalMs: 1000 })
    vi.advanceTimersByTime(1000)
    progress.set(3 * MiB, 12 * MiB)
    vi.advanceTimersByTime(1000)
    progress.stop()
    expect(at('info')).toEqual([
      'pulling kube-cross: 0 B, 0 B/s',
      'pulling kube-cross: 3 MiB of 12 MiB, 3 MiB/s'
    ])
  })

  it('counts what flows through its counter stream, unchanged', async () => {
    const { log } = recordingLog()
    const progress = startProgress('copy', log)
    const received: Buffer[] = []
    await pipeline(
      Readable.from([Buffer.alloc(1000, 1), Buffer.alloc(24, 2)]),
      progress.counter(),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          received.push(chunk)
          done()
        }
      })
    )
    progress.stop()
    expect(progress.bytes).toBe(1024)
    expect(Buffer.concat(received)).toEqual(Buffer.concat([Buffer.alloc(1000, 1), Buffer.alloc(24, 2)]))
  })
})

describe('Progress.count', () => {
  it('counts what is read through it, carries an error of its source, and ends it when let go', async () => {
    const { log } = recordingLog()
    const progress = startProgress('restore', log)
    const chunks: Buffer[] = []
    for await (const chunk of progress.count(Readable.from([Buffer.alloc(300), Buffer.alloc(200)])))
      chunks.push(chunk as Buffer)
    expect(progress.bytes).toBe(500)
    expect(Buffer.concat(chunks).length).toBe(500)
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(10)
        throw new Error('disk gone')
      })()
    )
    await expect(
      (async () => {
        for await (const chunk of progress.count(failing)) void chunk
      })()
    ).rejects.toThrow('disk gone')
    // A consumer that stops early (a failed write) ends the source as if it read it itself.
    const source = Readable.from([Buffer.alloc(1), Buffer.alloc(1), Buffer.alloc(1)])
    for await (const chunk of progress.count(source)) {
      void chunk
      break
    }
    expect(source.destroyed).toBe(true)
    progress.stop()
  })
})
