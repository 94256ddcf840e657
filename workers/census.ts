/**
 * The census: how many requests each Durable Object instance handles, so a
 * test can show that no object for the whole deployment sits on a
 * per-connection, per-message or per-write path (`docs/scale.md`). It is
 * off unless the deployment sets `VIVIM_CENSUS = "on"` (a development and
 * test setting: it costs a map update per request); then
 *
 *   - every call through a Durable Object stub (`fetch` or an RPC method)
 *     counts one request for the instance it reaches: the Worker's fetch
 *     handler and every counted object see an `env` whose namespaces hand
 *     out counting stubs (`withCensus`);
 *   - every event the runtime delivers to an object on its own (a socket's
 *     message, close or error, an alarm) counts one request for it.
 *
 * A request counts under the binding it went through and the instance's
 * name; `GET /v1/dev/census` lists the counts. Counts live in the
 * isolate's memory: under `wrangler dev` and in the test runtime every
 * object of this Worker runs in one isolate with the fetch handler, so the
 * list is complete there; in production it would show one isolate's share,
 * which is why the setting is for development.
 *
 * @example
 * ```ts
 * export const DocRoom = counted('DOC_ROOM', DocRoomObject)
 * // GET /v1/dev/census → { "objects": [{ "binding": "DOC_ROOM", "name": "conversation:c1", "requests": 12 }, …] }
 * ```
 */
import type { DurableObject } from 'cloudflare:workers'

export interface CensusRow {
  /** The namespace binding the object belongs to (`DOC_ROOM`). */
  readonly binding: string
  /** The name the instance was reached by (`getByName`), or its id when it has none. */
  readonly name: string
  readonly requests: number
}

const counts = new Map<string, { binding: string; name: string; requests: number }>()
const wrapped = new WeakMap<object, object>()

/** Events the runtime delivers to an object itself, not through a stub. */
const RUNTIME_EVENTS = ['webSocketMessage', 'webSocketClose', 'webSocketError', 'alarm'] as const

/** Whether this deployment counts. */
export function censusOn(env: object): boolean {
  return (env as { VIVIM_CENSUS?: unknown }).VIVIM_CENSUS === 'on'
}

/** The counts so far, busiest first. */
export function censusRows(): CensusRow[] {
  return [...counts.values()].map((row) => ({ ...row })).sort((a, b) => b.requests - a.requests)
}

/** Forgets every count (a test starts its workload from zero). */
export function resetCensus(): void {
  counts.clear()
}

function count(binding: string, name: string): void {
  const key = `${binding}\u0000${name}`
  const row = counts.get(key)
  if (row) row.requests++
  else counts.set(key, { binding, name, requests: 1 })
}

/** A stub whose every call (`fetch`, an RPC method) counts one request for `name`. */
function countingStub<S extends object>(stub: S, binding: string, name: string): S {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown
      // A stub is not a promise: `then` must stay what the stub says it is.
      if (typeof value !== 'function' || typeof prop === 'symbol' || prop === 'then') return value
      return (...args: unknown[]) => {
        count(binding, name)
        // Not `value.apply(…)`: on an RPC stub every property, `apply` too, names a remote method.
        return Reflect.apply(value as (...a: unknown[]) => unknown, target, args)
      }
    },
  })
}

function countingNamespace(namespace: DurableObjectNamespace, binding: string): DurableObjectNamespace {
  return new Proxy(namespace, {
    get(target, prop) {
      if (prop === 'getByName') {
        return (name: string, options?: unknown) =>
          countingStub(target.getByName(name, options as never), binding, name)
      }
      if (prop === 'get') {
        return (id: DurableObjectId, options?: unknown) =>
          countingStub(target.get(id, options as never), binding, id.name ?? id.toString())
      }
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** `env` with counting namespaces when the census is on; `env` itself otherwise. */
export function withCensus<E extends object>(env: E): E {
  if (!censusOn(env)) return env
  const known = wrapped.get(env)
  if (known) return known as E
  const counting = { ...env } as Record<string, unknown>
  for (const [binding, value] of Object.entries(env)) {
    if (typeof (value as DurableObjectNamespace | undefined)?.getByName === 'function') {
      counting[binding] = countingNamespace(value as DurableObjectNamespace, binding)
    }
  }
  wrapped.set(env, counting)
  return counting as E
}

// biome-ignore lint/suspicious/noExplicitAny: a Durable Object class of any constructor and methods
type ObjectClass = new (...args: any[]) => DurableObject<any>

/**
 * `Base`, seeing a counting `env` and counting the events the runtime
 * delivers to it under `binding`. Its methods are `Base`'s, so RPC and the
 * runtime reach it unchanged.
 */
export function counted<T extends ObjectClass>(binding: string, Base: T): T {
  const Counted = class extends Base {
    // biome-ignore lint/suspicious/noExplicitAny: the constructor of any Durable Object class
    constructor(...args: any[]) {
      const [ctx, env] = args as [DurableObjectState, object]
      super(ctx, withCensus(env))
    }
  }
  for (const event of RUNTIME_EVENTS) {
    const original = (Base.prototype as Record<string, unknown>)[event]
    if (typeof original !== 'function') continue
    Object.defineProperty(Counted.prototype, event, {
      configurable: true,
      writable: true,
      value(this: { ctx: DurableObjectState; env: { VIVIM_CENSUS?: string } }, ...args: unknown[]) {
        if (censusOn(this.env)) count(binding, this.ctx.id.name ?? this.ctx.id.toString())
        return Reflect.apply(original as (...a: unknown[]) => unknown, this, args)
      },
    })
  }
  Object.defineProperty(Counted, 'name', { value: Base.name })
  return Counted
}
