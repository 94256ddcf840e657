/**
 * Command-line options of the soak (`run.ts`), as a spec table for
 * `bench/lib/options.ts`: how long it runs, the pools of documents and
 * topics, how many clients hold them at a time, how fast they are replaced
 * (the churn), the write rates, and where the report goes. The defaults keep
 * about two hundred sockets and a hundred operations a second on the edge:
 * enough churn to show a leak within half an hour, little enough that a
 * 2-core machine shared with test runs keeps up.
 */
import { int, type OptionValues, text } from '../lib/options.ts'

export const SOAK_OPTIONS = {
  minutes: int(30, 1, 24 * 60, 'how long the workload runs (one sample a minute)'),
  docs: int(20, 1, 1_000, 'documents in the pool clients join'),
  clients: int(100, 2, 2_000, 'document clients connected at a time, each on a random document of the pool'),
  topics: int(10, 1, 200, 'topics in the pool, each with its owner subscribed and publishing'),
  subscribers: int(100, 1, 2_000, 'anonymous topic subscribers connected at a time, each on a random topic'),
  churnS: int(5, 1, 600, 'every S seconds some document clients and subscribers leave and as many join', {
    flag: 'churn-s',
    arg: 'S',
  }),
  churnPct: int(10, 0, 100, 'the share (%) of document clients and of subscribers replaced at each churn', {
    flag: 'churn-pct',
  }),
  writeS: int(4, 1, 600, 'each document client writes a small update once per S seconds on average', {
    flag: 'write-s',
    arg: 'S',
  }),
  publishes: int(10, 1, 1_000, 'topic messages published per second, over the topics in turn'),
  records: int(5, 0, 500, 'records written per second (a rotating set of 200 keys)'),
  reads: int(5, 0, 500, 'records read per second (keys written before)'),
  out: text('bench/soak/report', 'the report: <out>.md and <out>.png (relative to the repository)', {
    arg: 'PATH',
  }),
  from: text(null, 'redraw the report from a results file of an earlier run (bench/results/soak-*.json)', {
    arg: 'FILE',
  }),
}

/** The soak's parsed options. */
export type SoakOptions = OptionValues<typeof SOAK_OPTIONS>

/** The options that shape the workload, as `--flag value` words, for the report's command line. */
export function commandLineOf(o: SoakOptions): string {
  const words = ['npm run soak --']
  for (const [key, value] of Object.entries(o)) {
    if (key === 'out' || key === 'from' || value === null) continue
    words.push(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${value}`)
  }
  return words.join(' ')
}

/** The workload in a paragraph, for the report. */
export function describeWorkload(o: SoakOptions): string {
  const perDoc = (o.clients / o.docs).toFixed(1)
  return [
    `Workload, in development mode (no credentials): ${o.clients} document clients (the SDK's \`VivimDocProvider\`,`,
    `a fresh Y.Doc each) on a pool of ${o.docs} documents (${perDoc} per document on average), each writing a`,
    `small update once per ${o.writeS} s on average; ${o.subscribers} anonymous subscribers (\`VivimClient.subscribe\`)`,
    `on a pool of ${o.topics} \`public:\` topics, each topic created by its owner's subscription, with ${o.publishes}`,
    `messages a second published over HTTP by the owners in turn (an owner's subscription is opened with the SDK's`,
    'five-minute invocation: the edge closes it when that expires, which the errors count as `token_expired`, and',
    `the SDK reconnects with a new one); ${o.records} record writes a second (20 authors`,
    `× 10 names, overwritten in turn) and ${o.reads} reads. Every ${o.churnS} s, ${o.churnPct}% of the document`,
    'clients and of the subscribers leave and as many join, each on a random document or topic. Document',
    'latency: from a write until another client of the document applies it (written after that client',
    'synced); topic latency: from just before the owner signs and posts a message until a subscriber has',
    'checked it. Each minute reports the percentiles of its own deliveries. Memory is the resident set of',
    "the edge's processes (`/proc/<pid>/status`); edge TCP is the established connections to its port",
    '(`/proc/net/tcp`): the WebSockets plus the HTTP connections the clients keep alive.',
  ].join(' ')
}
