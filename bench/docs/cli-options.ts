/**
 * Command-line options of the document benchmarks, as spec tables for
 * `bench/lib/options.ts`: those of a load row (`run.ts`, and `rules.ts`
 * with its own), the choice of servers (`run.ts`, `history.ts`), those of
 * the history sync (`history.ts`) and of the trust checks' cost (`rules.ts`).
 */
import { flag, int, ints, list, type OptionValues, rowWindow, text } from '../lib/options.ts'
import { AFTER_TREE, BEFORE_COMMIT, BEFORE_TREE } from './rules-edges.ts'
import { SERVER_NAMES } from './server-targets.ts'

/** What one load row takes: clients, rate schedule, windows, threads. */
export const ROW_OPTIONS = {
  clients: int(20, 1, 500, 'sending clients on one document, plus one observer'),
  rates: ints([500, 2000, 4000], 1, 100_000, 'total offered updates/s, one row per rate and server'),
  ...rowWindow(
    { duration: 10, warmup: 2, drain: 10, quietWait: 5 },
    { duration: 600, warmup: 60, drain: 120, quietWait: 600 },
  ),
  workers: int(2, 1, 8, 'worker threads for the senders'),
  json: flag('also write raw results to bench/results/'),
  injectLoss: flag('drop one update on purpose: the completeness check must fail'),
}

/** Which servers to measure, and a relay already running. */
export const SERVER_OPTIONS = {
  only: list(SERVER_NAMES, 'servers, each started in turn'),
  relayUrl: text(null, 'use a running relay (ws://host:port) instead of starting wrangler dev', {
    arg: 'URL',
    pattern: /^wss?:\/\/[^/]+/,
    example: 'ws://127.0.0.1:8787',
  }),
}

/** `run.ts`: fan-out load rows on every server. */
export const LOAD_OPTIONS = { ...ROW_OPTIONS, ...SERVER_OPTIONS }

/** `history.ts`: sync of a long history on every server. */
export const HISTORY_OPTIONS = {
  updates: int(100_000, 1, 10_000_000, 'updates of history to fill before timing'),
  batch: int(1_000, 1, 100_000, 'updates merged into one frame while filling'),
  repeat: int(3, 1, 50, 'fresh clients timed per server'),
  ...SERVER_OPTIONS,
  json: ROW_OPTIONS.json,
}

/** `rules.ts`: the relay before and after its trust checks, a fresh edge a row. */
export const RULES_OPTIONS = {
  rounds: int(1, 1, 20, 'before/after pairs per rate, alternating'),
  before: text(BEFORE_COMMIT, 'the commit before the checks', { arg: 'REV' }),
  beforeTree: text(BEFORE_TREE, 'its worktree, made when absent', { arg: 'DIR' }),
  afterTree: text(
    AFTER_TREE,
    'the tree of the after side: a clean worktree of HEAD, made or moved there;\n--after-tree . bundles this working tree as it is, uncommitted edits included',
    { arg: 'DIR' },
  ),
  edgeWarmupS: int(3, 0, 60, 'an unreported row of S seconds on each fresh edge first, at 500/s at most; 0: none', {
    flag: 'edge-warmup',
    arg: 'S',
  }),
  ...ROW_OPTIONS,
  rates: ints([500, 2000], 1, 100_000, 'total offered updates/s, one row per rate, before and after'),
}

/** What a load row reads of the options. */
export type RowOptions = OptionValues<typeof ROW_OPTIONS>
export type LoadOptions = OptionValues<typeof LOAD_OPTIONS>
export type HistoryOptions = OptionValues<typeof HISTORY_OPTIONS>
