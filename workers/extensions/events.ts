/**
 * The edge's events, and the one registry through which the core (relay,
 * auth, indexer) tells extensions (federation, the libp2p bridge) what
 * happened. The core imports only this module, never an extension: an
 * extension implements `EdgeExtension` and is registered once, in
 * `../index.ts`, the way Hocuspocus takes extensions.
 *
 * Every call fans out to each registered extension that has the hook, in
 * registration order. An extension's failure never fails the local
 * operation (it is logged), except for the hand-overs: `revocationStored`,
 * `docFlushed` and `topicMessageStored` reject when an extension could not
 * take what it was given, so the caller keeps it and tries again (rooms
 * through `relay/handover-journal.ts`).
 *
 * @example
 * ```ts
 * registerExtensions(bridgeExtension, federationExtension) // in index.ts, at module top
 * ctx.waitUntil(edgeEvents.docFlushed(env, { docId, update })) // in DocRoom, after a flush is stored
 * ```
 */
import { logLine, type ProviderAnnouncement, type TopicEnvelope } from '@vivim/shared'

/** A client opened a document here; `home` is the instance it named as the document's home (`?home=`), if any. */
export interface DocOpened {
  readonly docId: string
  readonly home: string | null
}

/** A document room stored a flush (`docId` is null for a room that never learnt its name). */
export interface DocFlushed {
  readonly docId: string | null
  readonly update: Uint8Array
  /** The instance the update came from, when a peer sent it: it is not sent back there. */
  readonly origin?: string | null
  /** The DIDs whose writes the flush holds (peers' and unsigned writes name no one). */
  readonly writers?: readonly string[]
}

/** A client opened a topic here. */
export interface TopicOpened {
  readonly topic: string
}

/** A topic room stored a new (not duplicate) message. */
export interface TopicMessageStored {
  readonly envelope: TopicEnvelope
  /** The instance the message came from, when a peer sent it: it is not sent back there. */
  readonly origin?: string | null
}

/** The revocation registry stored a revocation of `token`. */
export interface RevocationStored {
  readonly revocation: Uint8Array
  readonly token: Uint8Array
}

/** The indexer stored a record (its canonical bytes). */
export interface RecordStored {
  readonly bytes: Uint8Array
}

/** The indexer stored a provider announcement for `key`. */
export interface ProviderAnnounced {
  readonly key: string
  readonly announcement: ProviderAnnouncement
}

/** The indexer has no record of `key`: an extension may know where one is. */
export interface RecordMissed {
  readonly key: string
}

/**
 * What an extension can hear. Every hook is optional; each returns once its
 * work is handed on (for example stored in an outbox).
 */
export interface EdgeExtension {
  /** Named in the log when a hook fails. */
  readonly name: string
  /**
   * Whether this extension takes document flushes and topic messages in this
   * deployment now (federation: only when the instance federates). Rooms
   * journal hand-overs only while one does; absent means yes.
   */
  takesHandovers?(env: Env): boolean
  docOpened?(env: Env, event: DocOpened): Promise<void>
  /** Rejecting keeps the flush in the room's journal, which hands it over again. */
  docFlushed?(env: Env, event: DocFlushed): Promise<void>
  topicOpened?(env: Env, event: TopicOpened): Promise<void>
  /** Rejecting keeps the message in the room's journal (and its publisher unanswered), which hands it over again. */
  topicMessageStored?(env: Env, event: TopicMessageStored): Promise<void>
  /** Rejecting fails the revocation, whose retry calls this again. */
  revocationStored?(env: Env, event: RevocationStored): Promise<void>
  recordStored?(env: Env, event: RecordStored): Promise<void>
  providerAnnounced?(env: Env, event: ProviderAnnounced): Promise<void>
  /** Bytes that `verifiedRecordBytes` accepted for the key, or null; the indexer checks grants before it keeps them. */
  recordMissed?(env: Env, event: RecordMissed): Promise<Uint8Array | null>
}

type QuietHook = 'docOpened' | 'topicOpened' | 'recordStored' | 'providerAnnounced'
type EventOf<K extends QuietHook> = Parameters<NonNullable<EdgeExtension[K]>>[1]

function logFailure(extension: EdgeExtension, hook: string, error: unknown): void {
  logLine('error', 'extension hook failed', { extension: extension.name, hook, error })
}

/** The registered extensions and the calls the core makes to them. */
export class EdgeEvents {
  readonly #extensions: EdgeExtension[] = []

  /** Adds extensions after those already registered; one registered again is not added twice. */
  register(...extensions: EdgeExtension[]): void {
    for (const extension of extensions) {
      if (!this.#extensions.includes(extension)) this.#extensions.push(extension)
    }
  }

  /** The registered extensions, in the order they are called. */
  get extensions(): readonly EdgeExtension[] {
    return this.#extensions
  }

  docOpened(env: Env, event: DocOpened): Promise<void> {
    return this.#quietly('docOpened', env, event)
  }

  /** Whether a document flush or topic message must be journaled: some extension takes hand-overs now. */
  journals(env: Env): boolean {
    return this.#extensions.some((e) => (e.docFlushed || e.topicMessageStored) && (e.takesHandovers?.(env) ?? true))
  }

  /** Settles once every extension holds the flush; rejects if one could not take it. */
  async docFlushed(env: Env, event: DocFlushed): Promise<void> {
    await Promise.all(this.#extensions.map((extension) => extension.docFlushed?.(env, event)))
  }

  topicOpened(env: Env, event: TopicOpened): Promise<void> {
    return this.#quietly('topicOpened', env, event)
  }

  /** Settles once every extension has handed the message on (TopicRoom answers the publisher only then); rejects if one could not. */
  async topicMessageStored(env: Env, event: TopicMessageStored): Promise<void> {
    await Promise.all(this.#extensions.map((extension) => extension.topicMessageStored?.(env, event)))
  }

  recordStored(env: Env, event: RecordStored): Promise<void> {
    return this.#quietly('recordStored', env, event)
  }

  providerAnnounced(env: Env, event: ProviderAnnounced): Promise<void> {
    return this.#quietly('providerAnnounced', env, event)
  }

  /**
   * Not quiet: the registry acknowledges a revocation only once every
   * extension holds it, so a crash cannot drop it on the way; a failure
   * fails the revocation, and its retry hands it on again.
   */
  async revocationStored(env: Env, event: RevocationStored): Promise<void> {
    await Promise.all(this.#extensions.map((extension) => extension.revocationStored?.(env, event)))
  }

  /**
   * Asks every extension at once, so waits do not add up, and takes the
   * first answer in registration order (the mesh before federated peers). A
   * lookup that fails counts as a miss.
   */
  async recordMissed(env: Env, event: RecordMissed): Promise<Uint8Array | null> {
    const lookups = this.#extensions.flatMap((extension) => {
      const lookup = extension.recordMissed
      if (!lookup) return []
      return [this.#guard(extension, 'recordMissed', () => lookup.call(extension, env, event), null)]
    })
    for (const lookup of lookups) {
      const bytes = await lookup
      if (bytes !== null) return bytes
    }
    return null
  }

  #quietly<K extends QuietHook>(hook: K, env: Env, event: EventOf<K>): Promise<void> {
    const calls: Promise<void>[] = []
    for (const extension of this.#extensions) {
      const run = extension[hook] as ((env: Env, event: EventOf<K>) => Promise<void>) | undefined
      if (run) calls.push(this.#guard(extension, hook, () => run.call(extension, env, event), undefined))
    }
    // One extension (the usual case) is awaited as is: no extra turns before a publisher hears back.
    if (calls.length <= 1) return calls[0] ?? Promise.resolve()
    return Promise.all(calls).then(() => undefined)
  }

  /** Runs a hook so that neither a throw nor a rejection escapes: it is logged, and `fallback` stands for it. */
  #guard<T>(extension: EdgeExtension, hook: string, run: () => Promise<T>, fallback: T): Promise<T> {
    const failed = (error: unknown): T => {
      logFailure(extension, hook, error)
      return fallback
    }
    try {
      return run().catch(failed)
    } catch (error) {
      return Promise.resolve(failed(error))
    }
  }
}

/** The edge's one registry: `../index.ts` registers into it, the core calls through it. */
export const edgeEvents = new EdgeEvents()

/**
 * Registers extensions with the edge, after any already registered.
 *
 * @example
 * ```ts
 * registerExtensions(bridgeExtension, federationExtension)
 * ```
 */
export function registerExtensions(...extensions: EdgeExtension[]): void {
  edgeEvents.register(...extensions)
}
