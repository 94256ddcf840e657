import { afterEach, describe, expect, it, vi } from 'vitest'
import { logLine } from '../src/log-line.ts'

// shared/ compiles without any platform's types; the console is the runtime's.
declare const console: { warn(line: string): void }

afterEach(() => vi.restoreAllMocks())

describe('log lines', () => {
  it('write level and msg first, then the fields, an error as its message, on the console method of the level', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    logLine('warn', 'federation gap', { domain: 'b.example', level: 'info', msg: 'nope', error: new Error('gone') })
    expect(warn).toHaveBeenCalledOnce()
    const line = warn.mock.calls[0]?.[0] as string
    expect(line).toBe('{"level":"warn","msg":"federation gap","domain":"b.example","error":"gone"}')
  })
})
