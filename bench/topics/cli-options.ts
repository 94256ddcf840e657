/**
 * Command-line options of the topic benchmark (`run.ts`), as a spec table
 * for `bench/lib/options.ts`: the rows (subscriber counts × offered rates),
 * their windows, the load generator's threads and publisher sockets, and the
 * servers measured on every row (`--targets`, named here with their labels
 * in the report; `edge-under-test.ts` starts them).
 */
import { flag, int, ints, list, type OptionValues, rowWindow, text } from '../lib/options.ts'

/**
 * The servers a row can measure: the edge's TopicRoom (spreading its readers over fan-out objects
 * past `Limits.topicReadersPerObject`), the same edge holding every reader in the room itself,
 * and the two anchors.
 */
export const TARGETS = ['edge', 'edge-one', 'naive', 'ws'] as const

/** Which server a row measures. */
export type TargetKind = (typeof TARGETS)[number]

/** The name a target has in the report. */
export const TARGET_LABELS: Readonly<Record<TargetKind, string>> = {
  edge: 'VIVIM TopicRoom',
  'edge-one': 'VIVIM TopicRoom, one object',
  naive: 'naive broadcast DO',
  ws: 'Node ws broadcast',
}

export const TOPIC_OPTIONS = {
  subscribers: ints([100, 1000], 1, 5_000, 'subscribers on one topic, one set of rows each'),
  rates: ints([100, 500, 1000], 1, 20_000, 'offered messages/s from the publisher, one row each', {
    flag: 'rate',
    arg: 'a,b,c',
  }),
  ...rowWindow(
    { duration: 10, warmup: 2, drain: 8, quietWait: 3 },
    { duration: 120, warmup: 30, drain: 60, quietWait: 60 },
  ),
  threads: int(2, 1, 8, 'worker threads holding the subscriber sockets'),
  perSocketRate: int(
    190,
    1,
    1_000,
    'most messages/s one publisher socket sends (the room allows one\npublisher 200 messages/s, so faster rates use more sockets)',
  ),
  url: text(null, 'an already running edge (http://127.0.0.1:8787) instead of wrangler dev', {
    arg: 'URL',
    pattern: /^(https?|wss?):\/\/[^/]+\/?$/,
    example: 'http://127.0.0.1:8787',
  }),
  targets: {
    ...list(
      TARGETS,
      "servers measured on every row, in this order: edge = the edge's TopicRoom (readers\nspread over fan-out objects past 500), edge-one = the same edge with every reader\nin the room (not by default), naive = a broadcast Durable Object without\nverification under its own wrangler dev, ws = a Node `ws` broadcast server",
    ),
    default: ['edge', 'naive', 'ws'] as const,
  },
  injectLoss: flag('one subscriber ignores one message: the completeness check must fail'),
}

export type TopicBenchOptions = OptionValues<typeof TOPIC_OPTIONS>
