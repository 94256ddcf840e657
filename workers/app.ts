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
import { federation } from './federation/app.ts'
import { errorResponse, onError } from './http/errors.ts'
import { notFound } from './http/not-found.ts'
import type { AppEnv } from './http/types.ts'
import { indexer } from './indexer/app.ts'
import { relay } from './relay/app.ts'

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
  app.route('/', access)
  app.route('/', relay)
  app.route('/', indexer)
  app.route('/', federation)
  app.route('/', bridge)
  app.onError(onError)
  app.notFound(notFound(app))
  return app
}
