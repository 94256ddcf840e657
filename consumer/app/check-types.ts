// Type-checked against the installed packages' .d.ts files (every entry point), not run.

import { createBridge } from '@vivim/bridge'
import { loadOrCreateIdentity, type SyncState, VivimClient } from '@vivim/client'
import { VivimSealedDocProvider } from '@vivim/client/e2e'
import { FileKeyStore } from '@vivim/client/node'
import { type Other, useDoc, useOthers, VivimProvider } from '@vivim/react'
import { generateIdentity, type Identity } from '@vivim/shared'

const me: Identity = generateIdentity()
const client: VivimClient = new VivimClient({ edge: 'http://127.0.0.1:8787', identity: me, token: null })
const state: SyncState = client.document('notes:n1').state.value
const others: (docId: string) => readonly Other<{ name: string }>[] = useOthers
export const used = [state, others, useDoc, VivimProvider, VivimSealedDocProvider, createBridge, client]
export const identity: Promise<Identity> = loadOrCreateIdentity(new FileKeyStore('./keys.json'))
