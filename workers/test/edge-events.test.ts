/**
 * The edge's events (`extensions/events.ts`): each call reaches every
 * extension with the hook in registration order; a failing extension never
 * fails the local operation, except a revocation, which waits for every
 * extension to hold it; a record lookup asks all at once and takes the first
 * answer in registration order.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { EdgeEvents, type EdgeExtension } from '../extensions/events.ts'

const bytes = (n: number) => new Uint8Array([n])
const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms))

describe('edge events', () => {
  it('reach every extension with the hook, in registration order; one registered twice is called once', async () => {
    const heard: string[] = []
    const first: EdgeExtension = {
      name: 'first',
      topicOpened: async (_env, { topic }) => void heard.push(`first ${topic}`),
    }
    const second: EdgeExtension = {
      name: 'second',
      topicOpened: async (_env, { topic }) => void heard.push(`second ${topic}`),
    }
    const events = new EdgeEvents()
    events.register(first, second, { name: 'deaf' })
    events.register(first)
    await events.topicOpened(env, { topic: 'public:news' })
    expect(heard).toEqual(['first public:news', 'second public:news'])
    expect(events.extensions.map((e) => e.name)).toEqual(['first', 'second', 'deaf'])
  })

  it('never fail the local operation when an extension throws or rejects: it is logged, the others still run', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    let stored = 0
    const events = new EdgeEvents()
    events.register(
      {
        name: 'throws',
        recordStored: () => {
          throw new Error('at once')
        },
      },
      { name: 'rejects', recordStored: async () => Promise.reject(new Error('later')) },
      { name: 'works', recordStored: async () => void stored++ },
    )
    await expect(events.recordStored(env, { bytes: bytes(1) })).resolves.toBeUndefined()
    expect(stored).toBe(1)
    const logged = error.mock.calls.map(([line]) => JSON.parse(line as string))
    expect(logged.map((l) => `${l.msg}: ${l.extension} ${l.hook} ${l.error}`)).toEqual([
      'extension hook failed: throws recordStored at once',
      'extension hook failed: rejects recordStored later',
    ])
    error.mockRestore()
  })

  it('hold a revocation until every extension has it, and fail it when one cannot take it', async () => {
    const events = new EdgeEvents()
    let held = false
    events.register({
      name: 'slow',
      revocationStored: async () => {
        held = await later(20, true)
      },
    })
    await events.revocationStored(env, { revocation: bytes(1), token: bytes(2) })
    expect(held).toBe(true)
    events.register({ name: 'full', revocationStored: async () => Promise.reject(new Error('outbox full')) })
    await expect(events.revocationStored(env, { revocation: bytes(1), token: bytes(2) })).rejects.toThrow('outbox full')
  })

  it('settle a topic message only once every extension has handed it on', async () => {
    const events = new EdgeEvents()
    let handedOn = false
    events.register({
      name: 'slow',
      topicMessageStored: async () => {
        handedOn = await later(20, true)
      },
    })
    events.register({ name: 'quick', topicMessageStored: async () => {} })
    await events.topicMessageStored(env, { envelope: {} as never })
    expect(handedOn).toBe(true)
  })

  it('take a missing record from the first extension in registration order that has it, asking all at once', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const asked: string[] = []
    const source = (name: string, ms: number, answer: Uint8Array | null | Error): EdgeExtension => ({
      name,
      recordMissed: async () => {
        asked.push(name)
        const value = await later(ms, answer)
        if (value instanceof Error) throw value
        return value
      },
    })
    const events = new EdgeEvents()
    events.register(
      source('broken', 0, new Error('no link')),
      source('mesh', 30, bytes(1)),
      source('peers', 0, bytes(2)),
    )
    expect(await events.recordMissed(env, { key: '/vivim/profile/x' })).toEqual(bytes(1))
    expect(asked).toEqual(['broken', 'mesh', 'peers'])
    const none = new EdgeEvents()
    none.register(source('mesh', 0, null), { name: 'deaf' })
    expect(await none.recordMissed(env, { key: '/vivim/profile/x' })).toBeNull()
    error.mockRestore()
  })
})
