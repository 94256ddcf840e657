/**
 * `@vivim/shared`, the wire core of the VIVIM network layer: identity
 * (did:key), the canonical encoding of everything signed, signed content
 * records, vector clocks, limits and error codes. Pure TypeScript with no
 * runtime-specific APIs: the same module runs in workerd, Node and browsers.
 *
 * @example
 * ```ts
 * import { createRecord, formatRecordKey, generateIdentity, validateRecord } from '@vivim/shared'
 *
 * const alice = generateIdentity()
 * const record = createRecord(alice, {
 *   key: formatRecordKey({ kind: 'profile', owner: alice.did }),
 *   value: new TextEncoder().encode(JSON.stringify({ name: 'Alice' })),
 *   public: true,
 * })
 * await validateRecord(record) // passes; flip one bit of record.value and it rejects with invalid_signature
 * ```
 *
 * @module @vivim/shared
 */
export * from './backoff.ts'
export * from './bridge-protocol.ts'
export * from './canonical.ts'
export * from './capability.ts'
export * from './capability-verify.ts'
export * from './circle-keys.ts'
export * from './close-codes.ts'
export * from './doc-helpers.ts'
export * from './doc-protocol.ts'
export * from './doc-rules.ts'
export * from './doc-schema.ts'
export * from './doc-types.ts'
export { type Ed25519Backend, ed25519Backend, passesStrictRules } from './ed25519.ts'
export * from './errors.ts'
export * from './federation-descriptor.ts'
export * from './federation-doc-parts.ts'
export * from './federation-request.ts'
export * from './federation-transaction.ts'
export * from './http-shapes.ts'
export * from './http-signature.ts'
export * from './identity.ts'
export * from './keys.ts'
export * from './limits.ts'
export * from './log-line.ts'
export * from './record.ts'
export * from './record-json.ts'
export * from './record-key.ts'
export * from './record-providers.ts'
export * from './revocation.ts'
export * from './rpc-result.ts'
export * from './seal.ts'
export * from './sealed-doc.ts'
export * from './topic-encoded.ts'
export * from './topic-envelope.ts'
export * from './topic-name.ts'
export * from './topic-protocol.ts'
export * from './vector-clock.ts'
