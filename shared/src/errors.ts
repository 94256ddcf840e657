/**
 * One error type for every part of the network layer. Each error carries a
 * stable machine-readable `code` (safe to switch on across versions) and the
 * HTTP status the edge answers with, so a failure reads the same whether it
 * surfaces in a Worker route, a WebSocket close, the bridge or the SDK.
 *
 * @example
 * ```ts
 * import { VivimError, ErrorCode } from '@vivim/shared'
 * throw new VivimError(ErrorCode.InvalidSignature, 'record signature does not verify')
 * ```
 */

export const ErrorCode = {
  BadRequest: 'bad_request',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  MethodNotAllowed: 'method_not_allowed',
  Conflict: 'conflict',
  UpgradeRequired: 'upgrade_required',
  PayloadTooLarge: 'payload_too_large',
  RateLimited: 'rate_limited',
  Internal: 'internal',
  ConnectionFailed: 'connection_failed',
  InvalidEncoding: 'invalid_encoding',
  InvalidDid: 'invalid_did',
  InvalidSignature: 'invalid_signature',
  InvalidKey: 'invalid_key',
  InvalidRecord: 'invalid_record',
  ValueTooLarge: 'value_too_large',
  TimestampInFuture: 'timestamp_in_future',
  StaleRecord: 'stale_record',
  UnsupportedMediaType: 'unsupported_media_type',
  InvalidQuery: 'invalid_query',
  InvalidCursor: 'invalid_cursor',
  InvalidLimit: 'invalid_limit',
  UnknownKind: 'unknown_kind',
  InvalidProvider: 'invalid_provider',
  InvalidTopic: 'invalid_topic',
  DecryptFailed: 'decrypt_failed',
  InvalidToken: 'invalid_token',
  TokenExpired: 'token_expired',
  TokenNotYetValid: 'token_not_yet_valid',
  TokenRevoked: 'token_revoked',
  WrongAudience: 'wrong_audience',
  OverAttenuated: 'over_attenuated',
  BrokenChain: 'broken_chain',
  NotDelegable: 'not_delegable',
  NotOwner: 'not_owner',
  InvalidEnvelope: 'invalid_envelope',
  SignatureRequired: 'signature_required',
  DigestMismatch: 'digest_mismatch',
  RequestStale: 'request_stale',
  RequestReplayed: 'request_replayed',
  InstanceBlocked: 'instance_blocked',
  UnknownInstance: 'unknown_instance',
  InvalidDescriptor: 'invalid_descriptor',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  upgrade_required: 426,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  connection_failed: 503,
  invalid_encoding: 400,
  invalid_did: 400,
  invalid_signature: 400,
  invalid_key: 400,
  invalid_record: 400,
  value_too_large: 413,
  timestamp_in_future: 400,
  stale_record: 409,
  unsupported_media_type: 415,
  invalid_query: 400,
  invalid_cursor: 400,
  invalid_limit: 400,
  unknown_kind: 400,
  invalid_provider: 400,
  invalid_topic: 400,
  decrypt_failed: 400,
  invalid_token: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  token_revoked: 401,
  wrong_audience: 401,
  over_attenuated: 403,
  broken_chain: 403,
  not_delegable: 403,
  not_owner: 403,
  invalid_envelope: 400,
  signature_required: 401,
  digest_mismatch: 400,
  request_stale: 401,
  request_replayed: 409,
  instance_blocked: 403,
  unknown_instance: 403,
  invalid_descriptor: 502,
}

/** The JSON body every HTTP error of the edge has. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string }
}

/** An error with a stable `code` and the HTTP status it maps to. */
export class VivimError extends Error {
  override readonly name = 'VivimError'
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  /** The HTTP status this error maps to. */
  get status(): number {
    return httpStatusOf(this.code)
  }

  /** The JSON error shape the edge answers with. */
  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message } }
  }
}

/** The HTTP status of an error code. */
export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code]
}

/** Whether a value is one of the `ErrorCode`s. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(STATUS, value)
}

/** Whether a value is a `VivimError`. */
export function isVivimError(value: unknown): value is VivimError {
  return value instanceof VivimError
}
