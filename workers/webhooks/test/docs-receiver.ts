/**
 * A webhook receiver on Node written from `docs/protocol.md` ("Checking a
 * delivery") alone: it uses node:crypto's SHA-256 and WebCrypto's Ed25519,
 * and nothing of this repository, so it checks what the page says rather
 * than what the edge's own code does. It listens on 127.0.0.1, answers each
 * delivery with the status a test asks for (200 by default), keeps the
 * deliveries whose checks all passed, and the reason for each it refused.
 */
import { createHash, webcrypto } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'

/** A checked delivery's body. */
export interface Delivery {
  readonly v: string
  readonly id: string
  readonly webhook: string
  readonly seq: number
  readonly event: string
  readonly resource: string
  readonly at: number
  readonly data: Record<string, unknown>
}

const COMPONENTS = '("@method" "@authority" "@path" "@query" "content-digest" "vivim-origin")'
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** Step 4: did:key → the 32-byte Ed25519 public key (base58btc, after the 0xed 0x01 prefix). */
export function publicKeyOfDid(did: string): Uint8Array {
  if (!did.startsWith('did:key:z')) throw new Error('not a did:key')
  let n = 0n
  for (const char of did.slice('did:key:z'.length)) {
    const digit = BASE58.indexOf(char)
    if (digit < 0) throw new Error('not base58btc')
    n = n * 58n + BigInt(digit)
  }
  const bytes: number[] = []
  for (; n > 0n; n >>= 8n) bytes.unshift(Number(n & 0xffn))
  if (bytes[0] !== 0xed || bytes[1] !== 0x01 || bytes.length !== 34) throw new Error('not an Ed25519 did:key')
  return new Uint8Array(bytes.slice(2))
}

/** What a delivery must pass; throws with the step that failed. */
export async function checkDelivery(
  request: { headers: Record<string, string | undefined>; body: Buffer },
  webhookUrl: string,
  edgeDid: string,
): Promise<Delivery> {
  const header = (name: string) => request.headers[name] ?? ''
  // 1. The digest of the bytes as received.
  const digest = createHash('sha256').update(request.body).digest('base64')
  if (header('content-digest') !== `sha-256=:${digest}:`) throw new Error('step 1: Content-Digest')
  // 2. sig1: exactly the documented components, ed25519, the edge's DID.
  const input = /(?:^|,\s*)sig1=(\([^)]*\)[^,]*)/.exec(header('signature-input'))?.[1]
  if (input === undefined || !input.startsWith(COMPONENTS)) throw new Error('step 2: Signature-Input')
  if (!input.includes(';alg="ed25519"') || !input.includes(`;keyid="${edgeDid}"`)) throw new Error('step 2: alg, keyid')
  // 3. The signature base, from the webhook's URL as subscribed.
  const url = new URL(webhookUrl)
  const base = [
    `"@method": POST`,
    `"@authority": ${url.host.toLowerCase()}`,
    `"@path": ${url.pathname}`,
    `"@query": ${url.search === '' ? '?' : url.search}`,
    `"content-digest": ${header('content-digest')}`,
    `"vivim-origin": ${header('vivim-origin')}`,
    `"@signature-params": ${input}`,
  ].join('\n')
  // 4 and 5. The key from the DID, the signature from sig1, verified over the base's UTF-8 bytes.
  const signature = /(?:^|,\s*)sig1=:([A-Za-z0-9+/=]+):/.exec(header('signature'))?.[1]
  if (signature === undefined) throw new Error('step 5: Signature')
  const key = await webcrypto.subtle.importKey('raw', publicKeyOfDid(edgeDid), { name: 'Ed25519' }, false, ['verify'])
  const valid = await webcrypto.subtle.verify(
    { name: 'Ed25519' },
    key,
    Buffer.from(signature, 'base64'),
    new TextEncoder().encode(base),
  )
  if (!valid) throw new Error('step 5: the signature does not verify')
  // 6. Fresh.
  const created = Number(/;created=(\d+)/.exec(input)?.[1])
  if (!(Math.abs(Date.now() / 1000 - created) <= 300)) throw new Error('step 6: created')
  return JSON.parse(request.body.toString('utf8')) as Delivery
}

export class DocsReceiver {
  /** Checked deliveries, each id once (step 7), in the order they first came. */
  readonly deliveries: Delivery[] = []
  /** Why each refused request was refused. */
  readonly refused: string[] = []
  /** Requests received, checked or not. */
  requests = 0
  /** The status to answer a checked delivery with. */
  answer: (delivery: Delivery) => number = () => 200
  edgeDid = ''
  private server: Server | null = null
  private port = 0

  /** The URL webhooks are subscribed with: a path and a query, so both are signed. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/vivim?app=test`
  }

  /** Listens (again on the same port after `down`). */
  async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then((status) => res.writeHead(status).end())
    })
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve))
    const address = this.server.address()
    if (typeof address === 'object' && address) this.port = address.port
  }

  /** Stops listening and drops open connections: the receiver is down. */
  down(): Promise<void> {
    const server = this.server
    this.server = null
    if (!server) return Promise.resolve()
    server.closeAllConnections()
    return new Promise((resolve) => server.close(() => resolve()))
  }

  /** Every checked delivery of webhook `id`. */
  of(id: string): Delivery[] {
    return this.deliveries.filter((d) => d.webhook === id)
  }

  private async handle(req: IncomingMessage): Promise<number> {
    this.requests++
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    let delivery: Delivery
    try {
      const headers = req.headers as Record<string, string | undefined>
      delivery = await checkDelivery({ headers, body: Buffer.concat(chunks) }, this.url, this.edgeDid)
    } catch (error) {
      this.refused.push((error as Error).message)
      return 401
    }
    const status = this.answer(delivery)
    if (status >= 200 && status < 300 && !this.deliveries.some((d) => d.id === delivery.id)) {
      this.deliveries.push(delivery)
    }
    return status
  }
}
