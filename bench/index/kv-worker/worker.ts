/**
 * The benchmark's bare KV reader (see `wrangler.toml` here): the least a
 * Worker can do to serve a record from KV, for the edge's reads to be
 * measured beside. No validation, no cache, no content negotiation.
 */
/** The one method of the KV binding used here (typed here: bench/ is checked with Node's types). */
interface KvEnv {
  readonly RECORDS: { get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null> }
}

const PREFIX = '/v1/records'

export default {
  async fetch(request: Request, env: KvEnv): Promise<Response> {
    const { pathname } = new URL(request.url)
    if (pathname === '/healthz') return new Response('ok')
    if (!pathname.startsWith(`${PREFIX}/`)) return new Response(null, { status: 404 })
    const bytes = await env.RECORDS.get(decodeURIComponent(pathname.slice(PREFIX.length)), 'arrayBuffer')
    if (bytes === null) return new Response(null, { status: 404 })
    return new Response(bytes, { headers: { 'Content-Type': 'application/cbor' } })
  },
}
