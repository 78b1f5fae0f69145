// Every Engine API call: a timeout that really ends the request, the run's cancel, cleanup that runs
// after a cancel, and what the user is told when the engine fails.
import { describe, expect, it, vi } from 'vitest'
import { unlessMissing } from '../../../src/docker/calls.js'
import { CancelledError, EngineLostError, ReleaseError } from '../../../src/errors.js'
import { engineError, fakeCalls, neverAnswers, systemError } from '../../helpers/fake-engine.js'

describe('EngineCalls.call', () => {
  it('fails a request that never answers with EngineLostError naming it, and aborts the request', async () => {
    let handed: AbortSignal | undefined
    const err = await fakeCalls({})
      .call(
        'inspecting container abc',
        abortSignal => {
          handed = abortSignal
          return neverAnswers(abortSignal)
        },
        { timeoutMs: 50 }
      )
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EngineLostError)
    expect((err as Error).message).toContain('did not answer inspecting container abc within 0.05 s')
    expect(handed?.aborted).toBe(true)
  })

  it('ends a request under way with CancelledError when the run is cancelled, aborting its signal', async () => {
    const cancel = new AbortController()
    let handed: AbortSignal | undefined
    const call = fakeCalls({}, cancel.signal).call('pulling kube-cross', abortSignal => {
      handed = abortSignal
      return neverAnswers(abortSignal)
    })
    await vi.waitFor(() => expect(handed).toBeDefined())
    expect(handed?.aborted).toBe(false)
    cancel.abort()
    await expect(call).rejects.toThrow(CancelledError)
    await expect(call).rejects.toThrow('cancelled while pulling kube-cross')
    expect(handed?.aborted).toBe(true)
  })

  it('refuses a call after the cancel without making the request', async () => {
    const cancel = new AbortController()
    cancel.abort()
    const request = vi.fn(async () => 'answer')
    const call = fakeCalls({}, cancel.signal).call('creating container build', request)
    await expect(call).rejects.toThrow(CancelledError)
    await expect(call).rejects.toThrow('cancelled before creating container build')
    expect(request).not.toHaveBeenCalled()
  })

  it('runs a call that is not cancellable after the cancel, and the cancel does not end it', async () => {
    const cancel = new AbortController()
    cancel.abort()
    let handed: AbortSignal | undefined
    const answer = await fakeCalls({}, cancel.signal).call(
      'removing container abc',
      async abortSignal => {
        handed = abortSignal
        await new Promise(resolve => setTimeout(resolve, 10))
        return 'removed'
      },
      { cancellable: false }
    )
    expect(answer).toBe('removed')
    expect(handed?.aborted).toBe(false)
  })

  it('keeps a call that is not cancellable under way when the cancel comes', async () => {
    const cancel = new AbortController()
    let handed: AbortSignal | undefined
    let answer: (value: string) => void = () => {}
    const call = fakeCalls({}, cancel.signal).call(
      'listing containers',
      abortSignal => {
        handed = abortSignal
        return new Promise<string>(resolve => (answer = resolve))
      },
      { cancellable: false }
    )
    await vi.waitFor(() => expect(handed).toBeDefined())
    cancel.abort()
    answer('listed')
    await expect(call).resolves.toBe('listed')
    expect(handed?.aborted).toBe(false)
  })

  it.each(['ECONNRESET', 'ECONNREFUSED'])('takes %s for a lost engine', async code => {
    const call = fakeCalls({}).call('starting container abc', async () => {
      throw systemError(code)
    })
    await expect(call).rejects.toThrow(EngineLostError)
    await expect(call).rejects.toThrow(`lost the Docker engine while starting container abc: connect ${code}`)
  })

  it("reports a refused request with the engine's own message", async () => {
    const refused = engineError(500, 'No such image: kube-cross:v1')
    const err = await fakeCalls({})
      .call('creating container build from kube-cross:v1', async () => {
        throw refused
      })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ReleaseError)
    expect(err).not.toBeInstanceOf(EngineLostError)
    expect(err).not.toBeInstanceOf(CancelledError)
    expect((err as Error).message).toBe(
      'creating container build from kube-cross:v1 failed: No such image: kube-cross:v1'
    )
    expect((err as Error).cause).toBe(refused)
  })
})

describe('unlessMissing', () => {
  it('answers null when the engine has no such object', async () => {
    await expect(unlessMissing(Promise.reject(engineError(404, 'no such volume')))).resolves.toBeNull()
  })

  it('passes an answer and any other failure through', async () => {
    await expect(unlessMissing(Promise.resolve('found'))).resolves.toBe('found')
    const conflict = engineError(409, 'volume is in use')
    await expect(unlessMissing(Promise.reject(conflict))).rejects.toBe(conflict)
  })
})
