/** A Yjs client of an instance's document over a real WebSocket (the stock y-websocket provider). */
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

/** Opens `docId` at an instance; with `home`, as a replica of the document homed there. */
export function openDoc(at: { url: string }, docId: string, home?: { domain: string }) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(`${at.url.replace(/^http/, 'ws')}/v1/docs`, docId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    params: home ? { home: home.domain } : {},
  })
  return { doc, provider, map: doc.getMap<string>('m') }
}
