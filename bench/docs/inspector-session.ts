/**
 * A minimal Chrome DevTools Protocol client over `ws`, for the runtime's V8
 * inspector (workerd's `--inspector-addr`, or `wrangler dev`'s
 * `--inspector-port`): finds the Worker's target in `/json/list`, then sends
 * commands and awaits their results. Used to attach a session as `wrangler
 * dev` does (dispatch benchmark) and to take CPU profiles (profile.ts).
 */
import WebSocket from 'ws'
import { sleep } from '../lib/child-process.ts'

interface Pending {
  done: (result: unknown) => void
  fail: (error: Error) => void
}

/** One inspector session on the first target the inspector lists. */
export class InspectorSession {
  private readonly ws: WebSocket
  private readonly pending = new Map<number, Pending>()
  private nextId = 1

  private constructor(ws: WebSocket) {
    this.ws = ws
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } }
      if (message.id === undefined) return
      const waiter = this.pending.get(message.id)
      if (waiter === undefined) return
      this.pending.delete(message.id)
      if (message.error) waiter.fail(new Error(message.error.message))
      else waiter.done(message.result)
    })
    ws.on('close', () => {
      for (const waiter of this.pending.values()) waiter.fail(new Error('inspector socket closed'))
      this.pending.clear()
    })
  }

  /**
   * Connects to the target at `http://127.0.0.1:<port>/json/list` whose title or URL holds `match`
   * (the first one when absent), retrying until `deadlineMs`.
   */
  static async connect(port: number, match = '', deadlineMs = 20_000): Promise<InspectorSession> {
    const started = Date.now()
    let last = 'no target'
    while (Date.now() - started < deadlineMs) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(2_000) })
        const targets = (await res.json()) as Array<{ title?: string; url?: string; webSocketDebuggerUrl?: string }>
        const target = targets.find((t) => `${t.title ?? ''} ${t.url ?? ''}`.includes(match)) ?? targets[0]
        if (target?.webSocketDebuggerUrl) {
          const ws = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false, maxPayload: 1 << 30 })
          await new Promise<void>((done, fail) => {
            ws.once('open', () => done())
            ws.once('error', fail)
          })
          return new InspectorSession(ws)
        }
        last = `no target in ${JSON.stringify(targets).slice(0, 200)}`
      } catch (error) {
        last = (error as Error).message
      }
      await sleep(250)
    }
    throw new Error(`inspector on port ${port}: ${last}`)
  }

  /** Sends one command and resolves with its result. */
  call<T = unknown>(method: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((done, fail) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        fail(new Error(`${method}: no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        done: (result) => {
          clearTimeout(timer)
          done(result as T)
        },
        fail: (error) => {
          clearTimeout(timer)
          fail(error)
        },
      })
      this.ws.send(JSON.stringify({ id, method, params }))
    })
  }

  close(): void {
    this.ws.close()
  }
}
