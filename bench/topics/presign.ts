/**
 * Signs a row's messages before it starts. Ed25519 signing in pure
 * JavaScript runs at roughly 1,500 messages a second per core here, which
 * would cap the publisher, so it is done before the timed part, on every
 * core: this module is also the entry of the signer threads it starts (each
 * signs one range of sequence numbers with the shared wire code, posts the
 * `{ t: "pub", e }` frames back and exits).
 *
 * The schedule's start (`t0`) is embedded in every payload, so it is fixed
 * before signing: far enough ahead for the signing to finish, from the
 * signing rate seen so far plus the threads' start-up; when signing overran
 * it is redone (at most twice more), with a start twice as far ahead as the
 * last signing took.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import {
  createEnvelope,
  encodeTopicFrame,
  generateIdentity,
  identityFromSecretKey,
  TopicFrameType,
} from '../../shared/src/index.ts'
import { now } from '../lib/worker-pool.ts'
import { encodePayload, scheduledAt } from './bench-protocol.ts'

interface SignerSetup {
  readonly role: 'signer'
  readonly secretKey: Uint8Array
  readonly topic: string
  readonly t0: number
  readonly ratePerS: number
  readonly fromSeq: number
  readonly toSeq: number
}

type FromSigner = { type: 'signed'; fromSeq: number; frames: Uint8Array[] } | { type: 'error'; message: string }

/** Signatures per second per thread assumed before any were timed (a cautious guess for a slow core). */
const FIRST_GUESS_PER_THREAD = 600
/** Thread start-up (loading the wire code) and slack, on top of the signing itself. */
const START_MARGIN_MS = 1_500
const SIGN_TIMEOUT_MS = 60_000

let measuredPerThread = FIRST_GUESS_PER_THREAD

export interface SignedRow {
  readonly t0: number
  readonly frames: Uint8Array[]
  readonly signMs: number
}

function signRange(setup: SignerSetup): FromSigner {
  try {
    const author = identityFromSecretKey(setup.secretKey)
    const frames: Uint8Array[] = []
    for (let seq = setup.fromSeq; seq < setup.toSeq; seq++) {
      const payload = encodePayload(seq, scheduledAt(setup.t0, setup.ratePerS, seq))
      const e = createEnvelope(author, { topic: setup.topic, payload })
      frames.push(encodeTopicFrame({ t: TopicFrameType.Publish, e }))
    }
    return { type: 'signed', fromSeq: setup.fromSeq, frames }
  } catch (error) {
    return { type: 'error', message: (error as Error).message }
  }
}

function signInThread(setup: SignerSetup): Promise<Extract<FromSigner, { type: 'signed' }>> {
  const worker = new Worker(new URL(import.meta.url), { workerData: setup })
  return new Promise<Extract<FromSigner, { type: 'signed' }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`signing took over ${SIGN_TIMEOUT_MS} ms`)), SIGN_TIMEOUT_MS)
    worker.once('message', (message: FromSigner) => {
      clearTimeout(timer)
      if (message.type === 'signed') resolve(message)
      else reject(new Error(`signer: ${message.message}`))
    })
    worker.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  }).finally(() => void worker.terminate())
}

async function signAll(topic: string, ratePerS: number, total: number, threads: number, t0: number) {
  const author = generateIdentity()
  const per = Math.ceil(total / threads)
  const ranges = Array.from({ length: threads }, (_, i) => [i * per, Math.min(total, (i + 1) * per)] as const)
  const parts = await Promise.all(
    ranges
      .filter(([fromSeq, toSeq]) => toSeq > fromSeq)
      .map(([fromSeq, toSeq]) =>
        signInThread({ role: 'signer', secretKey: author.secretKey, topic, t0, ratePerS, fromSeq, toSeq }),
      ),
  )
  parts.sort((a, b) => a.fromSeq - b.fromSeq)
  return parts.flatMap((part) => part.frames)
}

/** Signs `total` messages for `topic` at `ratePerS`; the schedule starts at the returned `t0`, still ahead. */
export async function presign(topic: string, ratePerS: number, total: number, threads: number): Promise<SignedRow> {
  let aheadMs = 1.25 * (total / (measuredPerThread * threads)) * 1000 + START_MARGIN_MS
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = now()
    const t0 = started + aheadMs
    const frames = await signAll(topic, ratePerS, total, threads, t0)
    const signMs = now() - started
    if (frames.length !== total) throw new Error(`signed ${frames.length} of ${total} messages`)
    if (total >= 1_000) measuredPerThread = Math.max(100, total / threads / (signMs / 1000))
    if (now() < t0 - 50) return { t0, frames, signMs }
    aheadMs = 2 * signMs + START_MARGIN_MS
  }
  throw new Error('signing overran the schedule three times: the machine is too busy')
}

// As a signer thread: sign the range given and hand the frames back.
if (!isMainThread && parentPort !== null && (workerData as SignerSetup | null)?.role === 'signer') {
  parentPort.postMessage(signRange(workerData as SignerSetup))
}
