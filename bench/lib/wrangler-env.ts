/**
 * The environments benchmarks start `wrangler dev` with, so the edge and its
 * same-runtime anchors run on the same local runtime.
 *
 * - `CLOUDFLARE_CF_FETCH_ENABLED=false`, `WRANGLER_SEND_METRICS=false`: no
 *   requests leave the machine.
 * - `X_LOCAL_OBSERVABILITY=false`: wrangler 4 traces every invocation of a
 *   local Worker into a collector Worker by default, and each message on a
 *   hibernatable WebSocket is an invocation of its own: that tracing cost
 *   about 270 µs of CPU per message here, four times what workerd alone
 *   spends (`npm run bench:docs:dispatch`, `bench/docs/README-notes.md`).
 *   Cloudflare's edge has no such collector, so figures taken with it would
 *   measure the dev tool, not the Worker.
 *
 * @example
 * ```ts
 * spawn(wrangler, ['dev', '--port', '8787'], { env: { ...process.env, ...BENCH_WRANGLER_ENV } })
 * ```
 */

/**
 * Nothing leaves the machine, wrangler's local tracing left on (its
 * default): the dispatch benchmark's traced setup, and the benchmarks whose
 * figures were taken this way (`bench:index`, `bench:crypto`,
 * `bench:docs:storage`).
 */
export const WRANGLER_QUIET_ENV: Readonly<Record<string, string>> = {
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
}

/** Nothing leaves the machine and no local tracing: what the edge and its anchors run with. */
export const BENCH_WRANGLER_ENV: Readonly<Record<string, string>> = {
  ...WRANGLER_QUIET_ENV,
  X_LOCAL_OBSERVABILITY: 'false',
}
