/**
 * What the mesh test page offers the tests (`globalThis.meshPage`), typed
 * apart from the page so the tests, compiled for Node, need none of the DOM.
 */

/** How a page starts its peer. */
export interface MeshPageStart {
  bridges: string[]
  /** The edge's URL: topics go both ways (mesh and edge) when given. */
  edge?: string
  /** Makes every WebRTC upgrade fail as on a network that blocks UDP: ICE may use TURN only, and there is none. */
  blockWebRTC?: boolean
}

/** A message the page's topic handler received. */
export interface ReceivedMessage {
  id: string
  text: string
  via: string
}

/** The page's controls. */
export interface MeshPage {
  start(init: MeshPageStart): Promise<string>
  /** The DID the page signs as. */
  did(): string
  /** Grants `to` reading `resource` (owned by this page's DID); the grant as text. */
  grantRead(resource: string, to: string): string
  /** Holds a grant from another page, for the edge. */
  addGrant(text: string): void
  join(name: string): void
  insert(text: string): void
  text(): string
  subscribe(topic: string): void
  publish(topic: string, text: string): Promise<string>
  received(): ReceivedMessage[]
  duplicates(): number
  path(peer: string): string
  paths(): { peer: string; path: string }[]
  errors(): string[]
  stop(): Promise<void>
}
