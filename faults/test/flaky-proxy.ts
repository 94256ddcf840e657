/**
 * A flaky network between the SDK and the edge, or between two instances:
 * a TCP proxy on loopback that delays every chunk by a seeded random time
 * (keeping each direction's order, as TCP does) and cuts connections at
 * random, until `heal()` makes it a plain pipe; `partition()` cuts every
 * connection and refuses new ones until `rejoin()`. Seeded, so a failing run
 * can be run again.
 *
 * @example
 * ```ts
 * const proxy = await FlakyProxy.start(edge.port, { seed: 1, cutChance: 0.02, maxDelayMs: 40 })
 * new VivimDocProvider(proxy.wsUrl, docId, doc) // through the proxy
 * proxy.heal()
 * ```
 */
import { connect, createServer, type Server, type Socket } from 'node:net'
import { seeded } from '../../scripts/seeded-random.ts'

export interface FlakyInit {
  readonly seed: number
  /** The chance that a chunk, instead of being passed on, cuts its connection. */
  readonly cutChance: number
  /** Each chunk waits 0 to this many ms. */
  readonly maxDelayMs: number
}

export class FlakyProxy {
  /** Connections cut so far. */
  cuts = 0
  private healed = false
  private partitioned = false
  private readonly server: Server
  private readonly open = new Set<Socket>()
  private readonly random: () => number
  private readonly init: FlakyInit

  private constructor(server: Server, init: FlakyInit) {
    this.server = server
    this.init = init
    this.random = seeded(init.seed)
  }

  static async start(targetPort: number, init: FlakyInit): Promise<FlakyProxy> {
    const server = createServer()
    const proxy = new FlakyProxy(server, init)
    server.on('connection', (client) => {
      if (proxy.partitioned) client.destroy()
      else proxy.join(client, connect(targetPort, '127.0.0.1'))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get port(): number {
    const address = this.server.address()
    if (typeof address !== 'object' || address === null) throw new Error('the proxy is not listening')
    return address.port
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Cuts every connection and refuses new ones, until `rejoin`. */
  partition(): void {
    this.partitioned = true
    for (const socket of this.open) socket.destroy()
  }

  rejoin(): void {
    this.partitioned = false
  }

  /** From now on a plain pipe: no delays, no cuts. */
  heal(): void {
    this.healed = true
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private join(client: Socket, upstream: Socket): void {
    for (const socket of [client, upstream]) {
      this.open.add(socket)
      socket.on('close', () => this.open.delete(socket))
      socket.on('error', () => {})
    }
    const cut = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('close', cut)
    upstream.on('close', cut)
    this.pipe(client, upstream, cut)
    this.pipe(upstream, client, cut)
  }

  /** Passes `from`'s chunks to `to` in order, each after its delay, unless a cut comes first. */
  private pipe(from: Socket, to: Socket, cut: () => void): void {
    let tail = Promise.resolve()
    from.on('data', (chunk: Buffer) => {
      if (!this.healed && this.random() < this.init.cutChance) {
        this.cuts++
        cut()
        return
      }
      const delay = this.healed ? 0 : Math.floor(this.random() * this.init.maxDelayMs)
      tail = tail.then(async () => {
        if (delay > 0) await new Promise((r) => setTimeout(r, delay))
        if (!to.destroyed) to.write(chunk)
      })
    })
  }
}
