/**
 * Killed, not stopped: the edge's runtime is killed (SIGKILL to wrangler
 * and workerd) in the middle of a write storm from stock `y-websocket`
 * clients, the SDK and topic publishers, then started again on the same
 * storage. Every update another client held, every topic message answered
 * `ok` and every record write answered 2xx must be there afterwards.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { seeded } from '../../scripts/seeded-random.ts'
import { type RunningEdge, startEdge } from '../../scripts/test-edge.ts'
import { type Acknowledged, startStorm } from './storm.ts'

const SEEDS = [11, 23]

const sizes = (a: Acknowledged) => ({
  docs: [...a.docs.values()].map((s) => s.size),
  topics: [...a.topics.values()].map((s) => s.size),
  records: a.records.size,
})

describe('an edge killed under a write storm', () => {
  const edges: RunningEdge[] = []
  afterAll(async () => {
    await Promise.all(edges.map((edge) => edge.stop()))
  })

  for (const seed of SEEDS) {
    it(`loses nothing it acknowledged (seed ${seed})`, async () => {
      const edge = await startEdge()
      edges.push(edge)
      const storm = startStorm(edge.url, { docs: 3, topics: 2, seed })
      // Killed at a seeded moment once every kind of write has been acknowledged at least once.
      const { docs, topics, records } = storm.acknowledged
      const started = () =>
        [...docs.values()].every((keys) => keys.size > 0) &&
        [...topics.values()].every((ids) => ids.size > 0) &&
        records.size > 0
      for (let waited = 0; !started(); waited += 20) {
        if (waited > 60_000)
          throw new Error(
            `the storm never got going: ${JSON.stringify(sizes(storm.acknowledged))} ${storm.lastError()}`,
          )
        await new Promise((r) => setTimeout(r, 20))
      }
      await new Promise((r) => setTimeout(r, 1000 + Math.floor(seeded(seed)() * 1500)))
      await edge.kill()
      storm.stop()
      console.log(`seed ${seed}: killed after`, sizes(storm.acknowledged))
      const restarted = await startEdge({ port: edge.port, persistTo: edge.persistTo })
      edges.push(restarted)
      const counts = [...docs.values(), ...topics.values()].map((s) => s.size)
      expect(counts.every((n) => n > 0)).toBe(true)
      expect(await storm.check(restarted.url)).toEqual([])
    })
  }
})
