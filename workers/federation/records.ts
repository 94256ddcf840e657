/**
 * Records and the federated instances: a local miss asks the configured
 * peers (`GET /v1/federation/records/<key>`, signed, answered from the peer's
 * own storage only, so lookups never bounce between instances), in
 * parallel and within `Limits.federationLookupTimeoutMs`. The first answer
 * that decodes and validates for the key wins; the indexer validates it again
 * and keeps it. Records federate by lookup only: a local write is not pushed
 * (owners publish where their readers look, and peers ask on a miss).
 * Wired in by `extension.ts`.
 */
import { FEDERATION_RECORDS_PATH, FederationCapability, Limits } from '@vivim/shared'
import { verifiedRecordBytes } from '../indexer/verified-record.ts'
import { federationConfig } from './config.ts'
import { descriptorOf } from './discovery.ts'
import { sendSigned } from './signed-request.ts'

/** Verified canonical bytes of the key's record from a federated peer, or `null`. */
export async function findRecordViaFederation(env: Env, key: string): Promise<Uint8Array | null> {
  const config = federationConfig(env)
  if (!config || config.peers.length === 0) return null
  const ask = async (domain: string): Promise<Uint8Array> => {
    const descriptor = await descriptorOf(env, domain)
    if (!descriptor.capabilities.includes(FederationCapability.Records)) throw new Error('no records here')
    const path = `${FEDERATION_RECORDS_PATH}${key.replace(/^\//, '')}`
    const response = await sendSigned(env, domain, { method: 'GET', path })
    if (!response.ok) {
      await response.body?.cancel()
      throw new Error(`${domain} answered ${response.status}`)
    }
    const verified = await verifiedRecordBytes(new Uint8Array(await response.arrayBuffer()), key)
    if (!verified) throw new Error(`${domain} answered with a record that does not verify for the key`)
    return verified
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), Limits.federationLookupTimeoutMs)
  })
  try {
    return await Promise.race([Promise.any(config.peers.map(ask)), timeout])
  } catch {
    return null
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}
