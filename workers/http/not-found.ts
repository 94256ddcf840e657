/**
 * The edge's answer for a request no route takes: 405 with an `Allow` header
 * when the path exists under other methods (RFC 9110 §15.5.6 says the server
 * MUST send `Allow` with 405), else 404. Both in the JSON error shape.
 */
import { ErrorCode, VivimError } from '@vivim/shared'
import type { Hono, NotFoundHandler } from 'hono'
import { PatternRouter } from 'hono/router/pattern-router'
import { errorResponse } from './errors.ts'

// biome-ignore lint/suspicious/noExplicitAny: accepts an app of any environment
export function notFound(app: Hono<any>): NotFoundHandler {
  let router: PatternRouter<string> | undefined
  const methodsFor = (path: string): string[] => {
    if (!router) {
      router = new PatternRouter<string>()
      for (const route of app.routes) {
        if (route.method !== 'ALL') router.add('ALL', route.path, route.method)
      }
    }
    const [matches] = router.match('ALL', path)
    const methods = new Set(matches.map(([method]) => method))
    if (methods.has('GET')) methods.add('HEAD')
    return [...methods].sort()
  }
  return (c) => {
    const allowed = methodsFor(c.req.path)
    if (allowed.length > 0) {
      return errorResponse(
        new VivimError(ErrorCode.MethodNotAllowed, `${c.req.method} is not allowed on ${c.req.path}`),
        { Allow: allowed.join(', ') },
      )
    }
    return errorResponse(new VivimError(ErrorCode.NotFound, `no route for ${c.req.method} ${c.req.path}`))
  }
}
