/**
 * Ed25519 verification inside workerd, for `bench/crypto/ed25519.ts`. Each
 * request carries signatures (hex) and verifies them N times over, cycling,
 * in one request: workerd's clocks (`Date`, `performance.now()`) stand still
 * while a request computes and advance only on I/O, so the time of a batch is
 * taken by the client, around the request, and from the workerd process's
 * CPU time in /proc.
 *
 * - `POST /verify` `{ path, n, inFlight, cases }`: `path` is `verifyAsync`
 *   (`@vivim/shared`, strict rules then WebCrypto), `noble` (the same rules,
 *   `@noble/curves`) or `subtle` (`crypto.subtle.verify` alone, keys imported
 *   before the loop); `inFlight` verifications are awaited together.
 *   Answers `{ backend, verified, failed }`.
 * - `POST /vectors` `{ cases }` (the cases of `shared/fixtures/ed25519-strict.json`):
 *   each case's verdict from `verifyAsync` and from noble.
 */
import { hexToBytes } from '@noble/hashes/utils.js'
import { ed25519Backend, verify, verifyAsync } from '../../../shared/src/index.ts'

interface HexCase {
  name?: string
  publicKey: string
  message: string
  signature: string
}

interface Case {
  publicKey: Uint8Array
  message: Uint8Array
  signature: Uint8Array
}

type VerifyPath = 'verifyAsync' | 'noble' | 'subtle'

const bytesOf = (c: HexCase): Case => ({
  publicKey: hexToBytes(c.publicKey),
  message: hexToBytes(c.message),
  signature: hexToBytes(c.signature),
})

async function verifier(path: VerifyPath, cases: Case[]): Promise<(i: number) => boolean | Promise<boolean>> {
  const at = (i: number) => cases[i % cases.length] as Case
  if (path === 'noble') return (i) => verify(at(i).publicKey, at(i).message, at(i).signature)
  if (path === 'verifyAsync') return (i) => verifyAsync(at(i).publicKey, at(i).message, at(i).signature)
  const keys = await Promise.all(
    cases.map((c) => crypto.subtle.importKey('raw', c.publicKey, { name: 'Ed25519' }, false, ['verify'])),
  )
  return (i) =>
    crypto.subtle.verify('Ed25519', keys[i % keys.length] as (typeof keys)[number], at(i).signature, at(i).message)
}

interface BatchRequest {
  path: VerifyPath
  n: number
  inFlight: number
  cases: HexCase[]
}

async function runBatch(body: BatchRequest) {
  const run = await verifier(body.path, body.cases.map(bytesOf))
  let next = 0
  let verified = 0
  let failed = 0
  const worker = async () => {
    while (next < body.n) {
      if (await run(next++)) verified++
      else failed++
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, body.inFlight) }, worker))
  return { backend: await ed25519Backend(), verified, failed }
}

async function runVectors(body: { cases: HexCase[] }) {
  return Promise.all(
    body.cases.map(async (c) => {
      const b = bytesOf(c)
      return {
        name: c.name ?? '',
        verifyAsync: await verifyAsync(b.publicKey, b.message, b.signature),
        noble: verify(b.publicKey, b.message, b.signature),
      }
    }),
  )
}

export default {
  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url)
    if (pathname === '/healthz') return new Response('ok')
    if (request.method !== 'POST') return new Response('not found', { status: 404 })
    if (pathname === '/verify') return Response.json(await runBatch((await request.json()) as BatchRequest))
    if (pathname === '/vectors') return Response.json(await runVectors((await request.json()) as { cases: HexCase[] }))
    return new Response('not found', { status: 404 })
  },
}
