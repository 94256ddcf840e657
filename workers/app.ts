/**
 * The edge as one Hono app: shared middleware, `/healthz`, and the relay,
 * indexer and federation sub-apps mounted side by side.
 *
 * @example
 * ```ts
 * import { createApp } from './app.ts'
 * const res = await createApp().request('/healthz', {}, env)
 * await res.json() // { status: 'ok', name: 'vivim-edge', version: '0.1.0' }
 * ```
 */
import { ErrorCode, Limits, VivimError } from '@vivim/shared'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { version } from '../package.json'
import { access } from './auth/app.ts'
import { bridge } from './bridge/app.ts'
import { censusOn, censusRows, resetCensus } from './census.ts'
import { federation } from './federation/app.ts'
import { errorResponse, onError } from './http/errors.ts'
import { notFound } from './http/not-found.ts'
import type { AppEnv } from './http/types.ts'
import { indexer } from './indexer/app.ts'
import { relay } from './relay/app.ts'
import { versions } from './relay/versions-app.ts'
import { webhooks } from './webhooks/app.ts'

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use(
    bodyLimit({
      maxSize: Limits.maxRequestBodyBytes,
      onError: () =>
        errorResponse(
          new VivimError(ErrorCode.PayloadTooLarge, `request body is larger than ${Limits.maxRequestBodyBytes} bytes`),
        ),
    }),
  )
  app.get('/healthz', (c) => c.json({ status: 'ok', name: 'vivim-edge', version }))
  // The census (`census.ts`): requests per Durable Object instance, when the deployment counts them.
  app.get('/v1/dev/census', (c) => {
    if (!censusOn(c.env)) throw new VivimError(ErrorCode.NotFound, 'the census is off (VIVIM_CENSUS)')
    return c.json({ objects: censusRows() })
  })
  app.delete('/v1/dev/census', (c) => {
    if (!censusOn(c.env)) throw new VivimError(ErrorCode.NotFound, 'the census is off (VIVIM_CENSUS)')
    resetCensus()
    return c.body(null, 204)
  })
  app.route('/', access)
  app.route('/', relay)
  app.route('/', versions)
  app.route('/', indexer)
  app.route('/', federation)
  app.route('/', bridge)
  app.route('/', webhooks)
  app.onError(onError)
  app.notFound(notFound(app))
  return app
}
