/**
 * The client every hook uses, given once near the root of the app.
 */
import type { VivimClient } from '@vivim/client'
import { createContext, createElement, type ReactNode, useContext } from 'react'

const ClientContext = createContext<VivimClient | null>(null)

/**
 * The props of `VivimProvider`.
 *
 * @example
 * ```tsx
 * const props: VivimProviderProps = { client, children: <App /> }
 * ```
 */
export interface VivimProviderProps {
  /** The client the hooks below use: its edge, identity and credentials. */
  client: VivimClient
  children?: ReactNode
}

/**
 * Gives `client` to every `@vivim/react` hook below it.
 *
 * @example
 * ```tsx
 * const client = new VivimClient({ edge: 'http://127.0.0.1:8787', token: null })
 * root.render(<VivimProvider client={client}><App /></VivimProvider>)
 * ```
 */
export function VivimProvider({ client, children }: VivimProviderProps): ReactNode {
  return createElement(ClientContext.Provider, { value: client }, children)
}

/**
 * The client of the nearest `VivimProvider`; throws outside one.
 *
 * @example
 * ```tsx
 * const client = useClient()
 * const onSave = () => client.records.put(record)
 * ```
 */
export function useClient(): VivimClient {
  const client = useContext(ClientContext)
  if (client === null) throw new Error('@vivim/react: wrap your components in <VivimProvider client={...}>')
  return client
}
