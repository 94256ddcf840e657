/**
 * Worker secrets: set with `wrangler secret put`, so `wrangler types` (which
 * reads `wrangler.toml`) does not see them.
 */
interface Env {
  /** The edge's Ed25519 seed, base64url; see `auth/edge-identity.ts`. */
  readonly EDGE_SECRET_KEY?: string
}
