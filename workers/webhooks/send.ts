/**
 * One attempt at one delivery: the body signed with the instance key in the
 * same RFC 9421 form as federation's requests (`signRequest`, one signing
 * code for both), posted without following redirects, within
 * `WEBHOOK_LIMITS.timeoutMs`. A 2xx answer delivers it; anything else (a
 * network failure, a timeout, a redirect, any other status) is a failed
 * attempt, and `410 Gone` says the receiver wants no more.
 *
 * @example
 * ```ts
 * const outcome = await sendDelivery(env, config, body)
 * if (outcome.ok) markDelivered()
 * ```
 */
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { edgeIdentity } from '../auth/edge-identity.ts'
import { signRequest } from '../federation/signed-request.ts'
import { type SubscriptionConfig, WEBHOOK_LIMITS } from './subscription.ts'

/** How an attempt ended. */
export interface AttemptOutcome {
  readonly ok: boolean
  /** The receiver asked to stop (410): no more attempts, and the subscription is suspended. */
  readonly gone: boolean
  /** The HTTP status, or null when none came back. */
  readonly status: number | null
  /** Why it failed, for the owner's listing. */
  readonly error: string | null
}

/** Posts `body` (the delivery's JSON) to the subscription's URL, signed; never throws. */
export async function sendDelivery(
  env: Env,
  config: Pick<SubscriptionConfig, 'url' | 'origin'>,
  body: string,
): Promise<AttemptOutcome> {
  const bytes = utf8ToBytes(body)
  let response: Response
  try {
    const headers = signRequest(edgeIdentity(env), {
      method: 'POST',
      url: config.url,
      body: bytes,
      origin: config.origin,
      contentType: 'application/json',
    })
    response = await fetch(config.url, {
      method: 'POST',
      headers,
      body: bytes,
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_LIMITS.timeoutMs),
    })
  } catch (error) {
    const message = (error as Error).name === 'TimeoutError' ? 'no answer in time' : (error as Error).message
    return { ok: false, gone: false, status: null, error: message.slice(0, 300) }
  }
  // The answer's body is not wanted: only its status counts.
  await response.body?.cancel().catch(() => {})
  if (response.status >= 200 && response.status < 300)
    return { ok: true, gone: false, status: response.status, error: null }
  return {
    ok: false,
    gone: response.status === 410,
    status: response.status,
    error: `the receiver answered ${response.status}`,
  }
}
