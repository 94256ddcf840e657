/**
 * Identities whose write a document room refused lately. Yjs cannot undo an
 * update, so each refusal costs the room a reload of the whole document from
 * storage; a writer who reconnected and sent one bad update after another
 * could keep the room reloading. So after a refusal the identity waits
 * `Limits.refusedWriterWaitMs` before the room admits it again (4429).
 *
 * State: in the room's memory only, at most `MAX_REMEMBERED` identities; a
 * room that is evicted forgets, which costs at most one more reload.
 */
import { Limits } from '@vivim/shared'

const MAX_REMEMBERED = 1024

export class RefusedWriters {
  private readonly until = new Map<string, number>()

  /** The room refused a write of `did` now. */
  refused(did: string, now = Date.now()): void {
    this.until.delete(did)
    if (this.until.size >= MAX_REMEMBERED) this.until.delete(this.until.keys().next().value as string)
    this.until.set(did, now + Limits.refusedWriterWaitMs)
  }

  /** How long `did` must still wait before the room admits it, in ms; 0 when it need not. */
  waitFor(did: string, now = Date.now()): number {
    const until = this.until.get(did)
    if (until === undefined) return 0
    if (until <= now) {
      this.until.delete(did)
      return 0
    }
    return until - now
  }
}
