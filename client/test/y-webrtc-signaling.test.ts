/**
 * The stock y-webrtc client against the real edge's `/v1/signaling`
 * (wrangler dev, started once for this project): two `WebrtcProvider`s in
 * one room, each in a process of its own (`y-webrtc-peer.ts`), find each
 * other through the edge alone. The first joins and hears its own announce
 * echoed (the edge relays to the sender too, as y-webrtc's server does);
 * the second then joins and announces, so the exchange that follows is
 * y-webrtc's own, in a known order: the first hears the announce and
 * offers, the second answers.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterEach, describe, expect, inject, it } from 'vitest'

const signaling = `${inject('edgeUrl').replace('http', 'ws')}/v1/signaling`
const PEER_SCRIPT = join(import.meta.dirname, 'y-webrtc-peer.ts')

interface PeerEvent {
  peerId?: string
  heard?: { type?: string; from?: string; to?: string; signal?: string }
  peers?: string[]
  remote?: { type: string; sdp: string }
}

/** A y-webrtc client process and the events it has reported. */
class StockClient {
  readonly events: PeerEvent[] = []
  private readonly child: ChildProcess
  private readonly waiters = new Set<() => void>()
  private exited: string | null = null

  constructor(room: string, name: string) {
    this.child = spawn(process.execPath, [PEER_SCRIPT, signaling, room, name], { stdio: ['ignore', 'pipe', 'pipe'] })
    let errors = ''
    this.child.stderr?.on('data', (chunk: Buffer) => (errors = (errors + chunk).slice(-4000)))
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      // Anything else on stdout (a library's log line) is not an event.
      if (!line.startsWith('{')) return
      this.events.push(JSON.parse(line) as PeerEvent)
      this.notify()
    })
    this.child.once('exit', (code) => {
      this.exited = `the y-webrtc client exited (${code}): ${errors}`
      this.notify()
    })
  }

  /** Resolves with the first event `matching` accepts, once one has been reported. */
  event(matching: (event: PeerEvent) => boolean): Promise<PeerEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(matching)
        if (found !== undefined || this.exited !== null) this.waiters.delete(check)
        if (found !== undefined) resolve(found)
        else if (this.exited !== null) reject(new Error(this.exited))
      }
      this.waiters.add(check)
      check()
    })
  }

  async peerId(): Promise<string> {
    return (await this.event((e) => e.peerId !== undefined)).peerId as string
  }

  heard(type: string, from: string, to?: string): Promise<PeerEvent> {
    return this.event((e) => e.heard?.type === type && e.heard.from === from && e.heard.to === to)
  }

  stop(): void {
    this.child.kill()
  }

  private notify(): void {
    for (const check of [...this.waiters]) check()
  }
}

const clients: StockClient[] = []

afterEach(() => {
  for (const client of clients.splice(0)) client.stop()
})

describe('the stock y-webrtc client', () => {
  it('finds a peer in its room through the edge: announce, offer and answer cross it', async () => {
    const room = `y-webrtc-${crypto.randomUUID()}`
    const first = new StockClient(room, 'first')
    clients.push(first)
    const firstId = await first.peerId()
    await first.heard('announce', firstId)

    const second = new StockClient(room, 'second')
    clients.push(second)
    const secondId = await second.peerId()

    await first.heard('announce', secondId)
    const offer = await second.heard('signal', firstId, secondId)
    expect(offer.heard?.signal).toBe('offer')
    const answer = await first.heard('signal', secondId, firstId)
    expect(answer.heard?.signal).toBe('answer')

    // y-webrtc itself took each side's description and counts the other as its peer.
    await second.event((e) => e.remote?.sdp === 'stand-in offer of first')
    await first.event((e) => e.remote?.sdp === 'stand-in answer of second')
    await first.event((e) => e.peers?.includes(secondId) === true)
    await second.event((e) => e.peers?.includes(firstId) === true)
  })
})
