/**
 * `BridgeHub`, the Durable Object that holds the links of the libp2p bridges
 * connected to this edge (`/v1/bridge`).
 */
import { DurableObject } from 'cloudflare:workers'

export class BridgeHub extends DurableObject<Env> {
  override async fetch(_request: Request): Promise<Response> {
    return new Response(null, { status: 501 })
  }
}
