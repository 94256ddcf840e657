/**
 * A document's version history over HTTP (`docs/protocol.md`, Version
 * history): list the versions the edge keeps and who changed the document
 * before each, preview one as a document of its own, name the document as it
 * is now, and restore a version. A restore is a new change: every client of
 * the document, this one's provider included, receives it like any edit.
 *
 * @example
 * ```ts
 * const history = client.versions('notes:n1')
 * const [latest] = await history.list()
 * const preview = await history.preview(latest.id) // a Y.Doc, not connected to anything
 * await history.restore(latest.id)
 * ```
 */
import { type DocVersion, ErrorCode, VivimError } from '@vivim/shared'
import * as Y from 'yjs'
import { request, type TokenSource } from './http.ts'

export type { DocVersion, VersionReason } from '@vivim/shared'

/** One document's versions, read and restored over HTTP. */
export class DocVersions {
  private readonly base: string
  private readonly token: TokenSource | undefined

  constructor(edgeHttpUrl: string, docId: string, token?: TokenSource) {
    this.base = `${edgeHttpUrl}/v1/docs/${encodeURIComponent(docId)}/versions`
    this.token = token
  }

  /** The versions kept, newest first. */
  async list(): Promise<DocVersion[]> {
    const res = await this.found(await request(this.base, {}, this.token))
    return ((await res.json()) as { versions: DocVersion[] }).versions
  }

  /** A version's state: a Yjs update from nothing. */
  async state(id: number): Promise<Uint8Array> {
    const res = await this.found(await request(`${this.base}/${id}`, {}, this.token))
    return new Uint8Array(await res.arrayBuffer())
  }

  /** A version as a document of its own, to show or compare; changing it changes nothing else. */
  async preview(id: number): Promise<Y.Doc> {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, await this.state(id))
    return doc
  }

  /** Names the document as it is now (needs `write`). */
  async save(name: string): Promise<DocVersion> {
    const init = { method: 'POST', body: JSON.stringify({ name }), headers: { 'content-type': 'application/json' } }
    const res = await request(this.base, init, this.token)
    return ((await res.json()) as { version: DocVersion }).version
  }

  /**
   * Restores version `id` as a new change (needs the owner or an `admin` grant); resolves with the
   * version the edge kept of what it replaced, so the restore can be undone by restoring that.
   */
  async restore(id: number): Promise<DocVersion | null> {
    const res = await this.found(await request(`${this.base}/${id}/restore`, { method: 'POST' }, this.token))
    return ((await res.json()) as { before: DocVersion | null }).before
  }

  /** `request` lets a 404 through (a missing record is an answer there); here it is an error. */
  private async found(res: Response): Promise<Response> {
    if (res.status !== 404) return res
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null
    throw new VivimError(ErrorCode.NotFound, body?.error?.message ?? 'not found')
  }
}
