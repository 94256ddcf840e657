import { ErrorCode, type VivimError } from '@vivim/shared'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { ReconnectingSocket } from '../src/reconnecting-socket.ts'

/** A real WebSocket server on 127.0.0.1 that records each connection's URL and closes as told. */
async function server(onConnection: (close: (code: number, reason: string) => void, n: number) => void) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise((resolve) => wss.once('listening', resolve))
  const urls: string[] = []
  wss.on('connection', (ws, req) => {
    urls.push(req.url ?? '')
    onConnection((code, reason) => ws.close(code, reason), urls.length)
  })
  const { port } = wss.address() as { port: number }
  servers.push(wss)
  return { url: `ws://127.0.0.1:${port}/v1/topics/t`, urls }
}

const servers: WebSocketServer[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.close()
})

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10))
}

interface Log {
  errors: (VivimError | null)[]
  retrying: boolean[]
  opened: number
}

function handlers(log: Log) {
  return {
    opened: () => void log.opened++,
    message: () => {},
    closed: (error: VivimError | null, retrying: boolean) => {
      log.errors.push(error)
      log.retrying.push(retrying)
    },
  }
}

describe('the SDK reconnecting socket', () => {
  it('reconnects after a drop with a fresh query and a fresh token', async () => {
    const s = await server((close, n) => {
      if (n === 1) close(1011, 'internal: restarting')
    })
    let cursor = 0
    let tokens = 0
    const log: Log = { errors: [], retrying: [], opened: 0 }
    const socket = new ReconnectingSocket(
      { url: s.url, query: () => ({ cursor: String(++cursor) }), token: () => `t${++tokens}` },
      handlers(log),
    )
    socket.connect()
    await until(() => log.opened === 2)
    expect(s.urls).toEqual(['/v1/topics/t?cursor=1&token=t1', '/v1/topics/t?cursor=2&token=t2'])
    expect(log.errors.map((e) => e?.code)).toEqual([ErrorCode.Internal])
    expect(log.retrying).toEqual([true])
    socket.disconnect()
  })

  it('stops for good on an error retrying cannot help, and maps the close code to a typed error', async () => {
    const s = await server((close) => close(4403, 'forbidden: not a member'))
    const log: Log = { errors: [], retrying: [], opened: 0 }
    const socket = new ReconnectingSocket({ url: s.url, token: 'fixed' }, handlers(log))
    socket.connect()
    await until(() => log.errors.length === 1)
    expect(log.errors[0]?.code).toBe(ErrorCode.Forbidden)
    expect(log.retrying).toEqual([false])
    expect(socket.retrying).toBe(false)
    await new Promise((r) => setTimeout(r, 300))
    expect(s.urls).toHaveLength(1)
  })

  it('cancels a scheduled attempt on disconnect', async () => {
    const log: Log = { errors: [], retrying: [], opened: 0 }
    // Nothing listens on port 9 of 127.0.0.1: the attempt fails and another is scheduled.
    const socket = new ReconnectingSocket({ url: 'ws://127.0.0.1:9/v1/docs/d' }, handlers(log))
    socket.connect()
    await until(() => socket.retrying)
    expect(log.errors[0]?.code).toBe(ErrorCode.ConnectionFailed)
    socket.disconnect()
    expect(socket.retrying).toBe(false)
    await new Promise((r) => setTimeout(r, 600))
    expect(log.errors).toHaveLength(1)
  })

  it('uses the WebSocket implementation it is given', async () => {
    const s = await server(() => {})
    const made: string[] = []
    class Recording extends WebSocket {
      constructor(url: string | URL) {
        super(url)
        made.push(String(url))
      }
    }
    const log: Log = { errors: [], retrying: [], opened: 0 }
    const socket = new ReconnectingSocket({ url: s.url, WebSocket: Recording }, handlers(log))
    socket.connect()
    await until(() => log.opened === 1)
    expect(made).toEqual([s.url])
    expect(socket.send(new Uint8Array([1]))).toBe(true)
    socket.disconnect()
  })
})
