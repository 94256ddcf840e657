import {
  type Action,
  type Capability,
  createRecord,
  ErrorCode,
  formatRecordKey,
  generateIdentity,
  type Identity,
  issueCapability,
} from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { revoke } from './doc-tokens.ts'
import { edge, put } from './indexer-client.ts'

const alice = generateIdentity()
const bob = generateIdentity()
const carol = generateIdentity()
const mallory = generateIdentity()
const HOUR = 3_600_000
const EXP = Date.now() + HOUR
const text = (s: string) => new TextEncoder().encode(s)

const grant = (
  issuer: Identity,
  aud: string,
  res: string,
  can: Action[],
  opts: { exp?: number; nbf?: number; prf?: Capability } = {},
) => issueCapability(issuer, { aud, res, can, exp: opts.exp ?? EXP, nbf: opts.nbf, prf: opts.prf ? [opts.prf] : [] })

async function refusal(res: Response): Promise<{ status: number; code: string }> {
  return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }
}

describe('capabilities at the indexer', () => {
  const key = formatRecordKey({ kind: 'post', owner: alice.did, name: `guest-${crypto.randomUUID()}` })
  const res = `record:${key}`
  const write = (author: Identity, cap: Capability, value = 'hello') =>
    put(createRecord(author, { key, value: text(value), timestamp: Date.now(), cap }))

  it('stores a record its owner let another author write, through a three-link chain', async () => {
    const toBob = grant(alice, bob.did, res, ['admin'])
    const toCarol = grant(bob, carol.did, res, ['write'], { prf: toBob })
    expect((await write(carol, toCarol)).status).toBe(201)
  })

  it('refuses forged, tampered, expired, not-yet-valid, wrong-audience and over-attenuated grants, each with its code', async () => {
    const tamperedGrant = { ...grant(alice, bob.did, res, ['write']), exp: EXP + HOUR }
    const cases: [Capability, { status: number; code: string }][] = [
      [grant(mallory, bob.did, res, ['write']), { status: 403, code: ErrorCode.NotOwner }],
      [tamperedGrant, { status: 400, code: ErrorCode.InvalidSignature }],
      [
        grant(alice, bob.did, res, ['write'], { exp: Date.now() - 1, nbf: Date.now() - HOUR }),
        { status: 401, code: ErrorCode.TokenExpired },
      ],
      [
        grant(alice, bob.did, res, ['write'], { nbf: Date.now() + HOUR, exp: EXP + HOUR }),
        { status: 401, code: ErrorCode.TokenNotYetValid },
      ],
      [grant(alice, carol.did, res, ['write']), { status: 401, code: ErrorCode.WrongAudience }],
      [
        // carol may write but not pass the grant on, so her link to mallory is refused.
        grant(mallory, bob.did, res, ['write'], {
          prf: grant(carol, mallory.did, res, ['write'], { prf: grant(alice, carol.did, res, ['write']) }),
        }),
        { status: 403, code: ErrorCode.NotDelegable },
      ],
      [
        grant(carol, bob.did, res, ['write'], { exp: EXP + HOUR, prf: grant(alice, carol.did, res, ['admin']) }),
        { status: 403, code: ErrorCode.OverAttenuated },
      ],
      [grant(alice, bob.did, res, ['read']), { status: 403, code: ErrorCode.Forbidden }],
    ]
    for (const [cap, expected] of cases) expect(await refusal(await write(bob, cap))).toEqual(expected)
  })

  it('refuses a record written under a revoked grant, and keeps the one stored before', async () => {
    const toBob = grant(alice, bob.did, res, ['write'])
    expect((await write(bob, toBob, 'before revocation')).status).toBeLessThan(300)
    expect((await revoke(alice, toBob)).status).toBe(200)
    expect(await refusal(await write(bob, toBob, 'after revocation'))).toEqual({
      status: 401,
      code: ErrorCode.TokenRevoked,
    })
    const stored = await edge(`/v1/records${key}`, { headers: { Accept: 'application/json' } })
    const value = ((await stored.json()) as { value: string }).value
    expect(atob(value.replace(/-/g, '+').replace(/_/g, '/'))).toBe('before revocation')
  })
})
