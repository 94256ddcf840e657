/**
 * A federation peer written on Node from the protocol alone (docs/federation.md):
 * it serves its signed descriptor at `/.well-known/vivim` on a loopback port
 * and signs the requests it sends, so tests can send an edge well-formed and
 * deliberately broken requests.
 */
import { randomBytes } from 'node:crypto'
import { createServer, request, type Server } from 'node:http'
import { base64urlnopad } from '@scure/base'
import {
  type Activity,
  contentDigest,
  createDescriptor,
  encodeTransaction,
  FEDERATION_INBOX_PATH,
  FEDERATION_ORIGIN_HEADER,
  FEDERATION_SIGNED_COMPONENTS,
  generateIdentity,
  type Identity,
  newTransactionId,
  signMessage,
} from '@vivim/shared'

export interface SignedRequestInit {
  readonly body: Uint8Array
  readonly url: string
  /** Seconds since the epoch; now by default. */
  readonly created?: number
  /** Who signs; the peer itself by default. */
  readonly signer?: Identity
  /** The `alg` parameter; `ed25519` by default, null to leave it out. */
  readonly alg?: string | null
  /** An `expires` parameter, seconds since the epoch. */
  readonly expires?: number
  /** The method signed; `POST` by default. */
  readonly method?: 'GET' | 'POST'
}

export class SigningPeer {
  readonly identity = generateIdentity()
  private server: Server | null = null
  domain = ''
  /** The domains its descriptor lists as peers. */
  peers: string[] = []
  /** The domain its descriptor names; its own by default (another one makes it invalid for this domain). */
  claims: string | null = null
  /** How long each descriptor it serves is valid; the protocol's longest by default. */
  descriptorTtlMs: number | undefined = undefined
  /** How many times its descriptor was asked for: what an edge fetched from it. */
  descriptorFetches = 0
  /** When the last descriptor it served expires (ms since the epoch). */
  descriptorExpiresAt = 0

  /** Listens on a free loopback port and serves the descriptor there. */
  async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url !== '/.well-known/vivim') return void res.writeHead(404).end()
      this.descriptorFetches++
      const signed = createDescriptor(this.identity, {
        domain: this.claims ?? this.domain,
        version: 'node-peer',
        capabilities: ['topics'],
        peers: this.peers,
        ...(this.descriptorTtlMs === undefined ? {} : { ttlMs: this.descriptorTtlMs }),
      })
      this.descriptorExpiresAt = signed.descriptor.expiresAt
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(signed))
    })
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve))
    const address = this.server.address()
    if (typeof address !== 'object' || address === null) throw new Error('no address')
    this.domain = `127.0.0.1:${address.port}`
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  /** A transaction body from this peer to `to`. */
  transaction(to: string, seq: number, activity: Activity, id = newTransactionId()): Uint8Array {
    return encodeTransaction({
      id,
      from: this.identity.did,
      to: to as `did:key:z${string}`,
      seq,
      at: Date.now(),
      activity,
    })
  }

  /** The headers of a signed request to an inbox, as the protocol asks. */
  sign(init: SignedRequestInit): Record<string, string> {
    const signer = init.signer ?? this.identity
    const headers: Record<string, string> = {
      'content-digest': contentDigest(init.body),
      [FEDERATION_ORIGIN_HEADER]: this.domain,
      'content-type': 'application/cbor',
    }
    const signed = signMessage(
      signer,
      { method: init.method ?? 'POST', url: init.url, header: (n) => headers[n] ?? null },
      {
        components: FEDERATION_SIGNED_COMPONENTS,
        created: init.created ?? Math.floor(Date.now() / 1000),
        nonce: base64urlnopad.encode(new Uint8Array(randomBytes(16))),
        ...(init.alg === null ? {} : { alg: init.alg ?? 'ed25519' }),
        ...(init.expires === undefined ? {} : { expires: init.expires }),
        keyid: signer.did,
      },
    )
    return { ...headers, ...signed }
  }

  /**
   * Posts a body to an edge's inbox with the given headers; the status and
   * JSON answer. Each on a connection of its own: a request refused before
   * its body was read (oversize) leaves its connection unusable, and must
   * not fail the next request.
   */
  /** Posts to the inbox (`query` after its path, for a lane: `?lane=3`). */
  static post(edgeUrl: string, headers: Record<string, string>, body: Uint8Array, query = '') {
    return new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const req = request(
        `${edgeUrl}${FEDERATION_INBOX_PATH}${query}`,
        { method: 'POST', headers, agent: false },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            try {
              resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> })
            } catch {
              reject(new Error(`${res.statusCode}: not JSON: ${text.slice(0, 200)}`))
            }
          })
          res.on('error', reject)
        },
      )
      // The edge may answer (413) and close before the whole body is written.
      req.on('error', reject)
      req.end(body)
    })
  }
}
