/**
 * The bridge's Prometheus metrics (prom-client) and the `/metrics` HTTP
 * server that serves them: peers, joined topics, topic messages in and out
 * (by side: `mesh` or `edge`), refused messages, DHT records put and held,
 * the edge link's state, and the messages waiting on either side. Gauges that mirror live state are read at
 * scrape time, so they are never stale.
 *
 * @example
 * ```ts
 * const metrics = new BridgeMetrics()
 * metrics.messagesIn.inc({ side: 'edge' })
 * const server = await serveMetrics(metrics, { host: '127.0.0.1', port: 9464 })
 * ```
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ErrorCode } from '@vivim/shared'
import { Counter, Gauge, Registry } from 'prom-client'

export interface LiveState {
  peers(): number
  topics(): number
  dhtRecords(): Promise<number>
  /** 1 while the link to the edge is open, else 0. */
  edgeLinkUp(): number
  /** Edge messages waiting for a subscribed mesh peer. */
  meshWaiting(): number
  /** Mesh messages sent or to send to the edge, waiting for its `ok`. */
  edgeWaiting(): number
  /** Of those, the ones journaled in the data directory (sent again after a crash). */
  edgeJournaled(): number
}

/** The bridge's Prometheus metrics (`vivim_bridge_*`). */
export class BridgeMetrics {
  readonly registry = new Registry()
  readonly messagesIn = new Counter({
    name: 'vivim_bridge_messages_in_total',
    help: 'Topic messages received, by the side they came from',
    labelNames: ['side'] as const,
    registers: [this.registry],
  })
  readonly messagesOut = new Counter({
    name: 'vivim_bridge_messages_out_total',
    help: 'Topic messages forwarded, by the side they went to',
    labelNames: ['side'] as const,
    registers: [this.registry],
  })
  readonly messagesRejected = new Counter({
    name: 'vivim_bridge_messages_rejected_total',
    help: 'Gossipsub messages rejected as malformed or forged',
    registers: [this.registry],
  })
  readonly duplicatesDropped = new Counter({
    name: 'vivim_bridge_duplicates_dropped_total',
    help: 'Topic messages dropped because their id was already forwarded',
    registers: [this.registry],
  })
  readonly dhtRecordsPut = new Counter({
    name: 'vivim_bridge_dht_records_put_total',
    help: 'Records from the edge put into the DHT',
    registers: [this.registry],
  })

  /** Registers the gauges that read `state` at each scrape. */
  watch(state: LiveState): void {
    const gauge = (name: string, help: string, read: () => number | Promise<number>) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          this.set(await read())
        },
      })
    gauge('vivim_bridge_peers', 'Peers with an open connection', () => state.peers())
    gauge('vivim_bridge_topics', 'Topics forwarded between the edge and Gossipsub', () => state.topics())
    gauge('vivim_bridge_dht_records', 'DHT records held in the datastore', () => state.dhtRecords())
    gauge('vivim_bridge_edge_link_up', '1 while the link to the edge is open', () => state.edgeLinkUp())
    gauge('vivim_bridge_mesh_waiting', 'Edge messages waiting for a subscribed mesh peer', () => state.meshWaiting())
    gauge('vivim_bridge_edge_waiting', "Mesh messages waiting for the edge's ok", () => state.edgeWaiting())
    gauge('vivim_bridge_edge_journaled', 'Mesh messages journaled for the edge, not yet acknowledged', () =>
      state.edgeJournaled(),
    )
  }
}

/** Where to serve `/metrics`. */
export interface MetricsServerInit {
  host: string
  port: number
}

/** A running `/metrics` server. */
export interface MetricsServer {
  readonly url: string
  /** Stops the server. */
  close(): Promise<void>
}

/** Serves the metrics as Prometheus text at `/metrics`. */
export async function serveMetrics(metrics: BridgeMetrics, init: MetricsServerInit): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: ErrorCode.NotFound, message: 'only GET /metrics is served here' } }))
      return
    }
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType })
        res.end(text)
      },
      (error: Error) => {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { code: ErrorCode.Internal, message: error.message } }))
      },
    )
  })
  await new Promise<void>((done, fail) => {
    server.once('error', fail)
    server.listen(init.port, init.host, () => done())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${init.host.includes(':') ? `[${init.host}]` : init.host}:${port}/metrics`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  }
}
