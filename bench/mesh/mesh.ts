/**
 * The mesh under test: N nodes on 127.0.0.1 (bridges, or the plain-Gossipsub
 * anchor), each in its own worker thread (`bridge-thread.ts`), in memory,
 * every one bootstrapping from the first, all joined to one topic; ready once
 * each sees every other as a topic peer.
 */
import { Worker } from 'node:worker_threads'
import { sleep } from '../lib/child-process.ts'
import { progress } from '../lib/run-environment.ts'
import type { NodeKind, ThreadCommand, ThreadEvent } from './bridge-thread.ts'

export interface MeshBridge {
  readonly index: number
  readonly addr: string
  send(command: ThreadCommand): void
  /** Calls `on` for every event from this bridge; returns a function that stops it. */
  listen(on: (event: ThreadEvent) => void): () => void
  /** The next event that satisfies `match`. */
  next<T extends ThreadEvent>(match: (event: ThreadEvent) => event is T): Promise<T>
}

function startThread(
  kind: NodeKind,
  index: number,
  topic: string,
  bootstrap: string | null,
): Promise<[MeshBridge, Worker]> {
  const worker = new Worker(new URL('./bridge-thread.ts', import.meta.url), { workerData: { topic, bootstrap, kind } })
  const listeners = new Set<(event: ThreadEvent) => void>()
  worker.on('message', (event: ThreadEvent) => {
    for (const on of listeners) on(event)
  })
  worker.on('error', (error) => {
    throw error
  })
  const listen = (on: (event: ThreadEvent) => void) => {
    listeners.add(on)
    return () => listeners.delete(on)
  }
  const next = <T extends ThreadEvent>(match: (event: ThreadEvent) => event is T) =>
    new Promise<T>((done) => {
      const stop = listen((event) => {
        if (!match(event)) return
        stop()
        done(event)
      })
    })
  return next((e): e is Extract<ThreadEvent, { type: 'ready' }> => e.type === 'ready').then((ready) => [
    { index, addr: ready.addr, send: (command) => worker.postMessage(command), listen, next },
    worker,
  ])
}

export interface Mesh {
  readonly bridges: MeshBridge[]
  /** Stops every bridge; what they counted during the run. */
  stop(): Promise<{ connectionsClosed: number; rejected: number }>
}

/** Starts `size` nodes of `kind` (bridges, or the plain-Gossipsub anchor) and waits until each sees every other on `topic`. */
export async function startMesh(size: number, topic: string, kind: NodeKind): Promise<Mesh> {
  const [first, firstWorker] = await startThread(kind, 0, topic, null)
  const rest = await Promise.all(
    Array.from({ length: size - 1 }, (_, i) => startThread(kind, i + 1, topic, first.addr)),
  )
  const bridges = [first, ...rest.map(([b]) => b)]
  const workers = [firstWorker, ...rest.map(([, w]) => w)]
  const state = new Map<number, { peers: number; subscribers: number }>()
  const stops = bridges.map((b) =>
    b.listen((e) => {
      if (e.type === 'state') state.set(b.index, e)
    }),
  )
  const deadline = Date.now() + 60_000
  // Every bridge ends up connected to every other: wait until each knows all nine as topic peers,
  // or the first messages would measure the mesh still forming.
  while (Date.now() < deadline) {
    if (bridges.every((b) => (state.get(b.index)?.subscribers ?? 0) >= size - 1)) break
    await sleep(100)
  }
  // Let Gossipsub form its meshes (GRAFTs happen on heartbeats, one a second).
  await sleep(3_000)
  progress(`${kind} mesh of ${size} up: ${bridges.map((b) => state.get(b.index)?.peers ?? 0).join(',')} peers each`)
  for (const stop of stops) stop()
  return {
    bridges,
    async stop() {
      const stopped = await Promise.all(
        bridges.map((b) => {
          const done = b.next((e): e is Extract<ThreadEvent, { type: 'stopped' }> => e.type === 'stopped')
          b.send({ type: 'stop' })
          return done
        }),
      )
      await Promise.all(workers.map((w) => w.terminate()))
      return {
        connectionsClosed: stopped.reduce((sum, s) => sum + s.connectionsClosed, 0),
        rejected: stopped.reduce((sum, s) => sum + s.rejected, 0),
      }
    },
  }
}
