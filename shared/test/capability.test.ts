import { describe, expect, it } from 'vitest'
import { decodeCanonical, encodeCanonical } from '../src/canonical.ts'
import {
  type Action,
  type Capability,
  capabilityId,
  decodeCapabilityText,
  encodeCapability,
  encodeCapabilityText,
  issueCapability,
} from '../src/capability.ts'
import { capabilitySignatureChecks, verifyCapability } from '../src/capability-verify.ts'
import { ErrorCode } from '../src/errors.ts'
import { generateIdentity } from '../src/identity.ts'
import { createRevocation, decodeRevocation, encodeRevocation, validateRevocation } from '../src/revocation.ts'

const owner = generateIdentity()
const bob = generateIdentity()
const carol = generateIdentity()
const mallory = generateIdentity()
const edge = generateIdentity()
const NOW = 1_800_000_000_000
const HOUR = 3_600_000
const res = 'doc:circle:book-club'

function check(token: Capability, action: Action = 'write', extra: { revoked?: Set<string>; now?: number } = {}) {
  return verifyCapability(token, {
    resource: res,
    action,
    audience: edge.did,
    now: extra.now ?? NOW,
    ownerOf: (r) => (r === res ? owner.did : null),
    isRevoked: (id) => extra.revoked?.has(id) ?? false,
  })
}

const refusedWith = (code: ErrorCode) => expect.objectContaining({ code })

/** owner → bob (admin) → carol (read, write) → edge: a chain of three links plus the invocation. */
function chain() {
  const toBob = issueCapability(owner, { aud: bob.did, res, can: ['admin'], exp: NOW + 10 * HOUR })
  const toCarol = issueCapability(bob, {
    aud: carol.did,
    res,
    can: ['read', 'write'],
    exp: NOW + 5 * HOUR,
    prf: [toBob],
  })
  const invocation = issueCapability(carol, { aud: edge.did, res, can: ['write'], exp: NOW + HOUR, prf: [toCarol] })
  return { toBob, toCarol, invocation }
}

describe('capability chains verified once per token id', () => {
  it('a chain presented again costs no signature check', async () => {
    const { invocation } = chain()
    const before = capabilitySignatureChecks()
    await check(invocation)
    expect(capabilitySignatureChecks() - before).toBe(3)
    await check(decodeCapabilityText(encodeCapabilityText(invocation)))
    expect(capabilitySignatureChecks() - before).toBe(3)
  })

  it('a cached chain whose token has expired is still refused', async () => {
    const { invocation } = chain()
    await check(invocation)
    const checked = capabilitySignatureChecks()
    await expect(check(invocation, 'write', { now: NOW + HOUR })).rejects.toThrowError(
      refusedWith(ErrorCode.TokenExpired),
    )
    await expect(check(invocation, 'write', { now: -1 })).rejects.toThrowError(refusedWith(ErrorCode.TokenNotYetValid))
    expect(capabilitySignatureChecks()).toBe(checked)
  })

  it('a cached chain with a revoked link is still refused', async () => {
    const { toCarol, invocation } = chain()
    await check(invocation)
    const checked = capabilitySignatureChecks()
    await expect(check(invocation, 'write', { revoked: new Set([capabilityId(toCarol)]) })).rejects.toThrowError(
      refusedWith(ErrorCode.TokenRevoked),
    )
    expect(capabilitySignatureChecks()).toBe(checked)
  })

  it('a cached chain is still checked for audience, action and owner', async () => {
    const { invocation } = chain()
    await check(invocation)
    await expect(check(invocation, 'admin')).rejects.toThrowError(refusedWith(ErrorCode.Forbidden))
    await expect(
      verifyCapability(invocation, {
        resource: res,
        action: 'write',
        audience: bob.did,
        now: NOW,
        ownerOf: () => owner.did,
      }),
    ).rejects.toThrowError(refusedWith(ErrorCode.WrongAudience))
    await expect(
      verifyCapability(invocation, {
        resource: res,
        action: 'write',
        audience: edge.did,
        now: NOW,
        ownerOf: () => mallory.did,
      }),
    ).rejects.toThrowError(refusedWith(ErrorCode.NotOwner))
  })

  it('a tampered link is a different token id, so the cache never vouches for it', async () => {
    const { invocation } = chain()
    await check(invocation)
    const sig = invocation.sig.slice()
    sig[5] = (sig[5] as number) ^ 1
    await expect(check({ ...invocation, sig })).rejects.toThrowError(refusedWith(ErrorCode.InvalidSignature))
  })
})

describe('capability tokens', () => {
  it('the owner invokes directly', async () => {
    const token = issueCapability(owner, { aud: edge.did, res, can: ['read', 'write'], exp: NOW + HOUR })
    expect(await check(token)).toMatchObject({ invoker: owner.did, exp: NOW + HOUR })
  })

  it('a delegation chain of three links works, and survives its text form', async () => {
    const { invocation } = chain()
    const round = decodeCapabilityText(encodeCapabilityText(invocation))
    expect(round).toEqual(invocation)
    const ok = await check(round)
    expect(ok.invoker).toBe(carol.did)
    expect(ok.exp).toBe(NOW + HOUR)
    expect(ok.ids).toHaveLength(3)
  })

  it('refuses a forged grant: a root not issued by the owner', async () => {
    const fake = issueCapability(mallory, { aud: bob.did, res, can: ['admin'], exp: NOW + HOUR })
    const inv = issueCapability(bob, { aud: edge.did, res, can: ['write'], exp: NOW + HOUR, prf: [fake] })
    await expect(check(inv)).rejects.toThrowError(refusedWith(ErrorCode.NotOwner))
  })

  it('refuses a tampered token', async () => {
    const { invocation } = chain()
    const tampered = { ...invocation, can: ['admin'] as Action[] }
    await expect(check(tampered)).rejects.toThrowError(refusedWith(ErrorCode.InvalidSignature))
    const wire = decodeCanonical(encodeCapability(invocation)) as Record<string, unknown>
    const parent = decodeCanonical((wire.prf as Uint8Array[])[0] as Uint8Array) as Record<string, unknown>
    const forgedParent = encodeCanonical({ ...parent, exp: NOW + 100 * HOUR } as never)
    await expect(check({ ...invocation, prf: [forgedParent] })).rejects.toThrowError(
      refusedWith(ErrorCode.InvalidSignature),
    )
  })

  it('refuses an expired and a not-yet-valid token', async () => {
    const { invocation } = chain()
    await expect(check(invocation, 'write', { now: NOW + HOUR })).rejects.toThrowError(
      refusedWith(ErrorCode.TokenExpired),
    )
    const early = issueCapability(owner, { aud: edge.did, res, can: ['write'], nbf: NOW + HOUR, exp: NOW + 2 * HOUR })
    await expect(check(early)).rejects.toThrowError(refusedWith(ErrorCode.TokenNotYetValid))
  })

  it('refuses a token addressed to another service', async () => {
    const token = issueCapability(owner, { aud: mallory.did, res, can: ['write'], exp: NOW + HOUR })
    await expect(check(token)).rejects.toThrowError(refusedWith(ErrorCode.WrongAudience))
  })

  it.each<[string, Action, (parent: Capability) => Capability]>([
    [
      'more actions',
      'delete',
      (p) => issueCapability(bob, { aud: edge.did, res, can: ['delete'], exp: NOW + HOUR, prf: [p] }),
    ],
    [
      'a wider resource',
      'read',
      (p) => issueCapability(bob, { aud: edge.did, res: 'doc:*', can: ['read'], exp: NOW + HOUR, prf: [p] }),
    ],
    [
      'a later expiry',
      'read',
      (p) => issueCapability(bob, { aud: edge.did, res, can: ['read'], exp: NOW + 9 * HOUR, prf: [p] }),
    ],
  ])('refuses an over-attenuated link claiming %s', async (_, action, child) => {
    const toBob = issueCapability(owner, { aud: bob.did, res, can: ['read', 'write'], exp: NOW + 2 * HOUR })
    await expect(check(child(toBob), action)).rejects.toThrowError(refusedWith(ErrorCode.OverAttenuated))
  })

  it('refuses passing on a grant that does not allow delegation', async () => {
    const toBob = issueCapability(owner, { aud: bob.did, res, can: ['read', 'write'], exp: NOW + 2 * HOUR })
    const toCarol = issueCapability(bob, { aud: carol.did, res, can: ['read'], exp: NOW + HOUR, prf: [toBob] })
    const inv = issueCapability(carol, { aud: edge.did, res, can: ['read'], exp: NOW + HOUR, prf: [toCarol] })
    await expect(check(inv, 'read')).rejects.toThrowError(refusedWith(ErrorCode.NotDelegable))
  })

  it('refuses a link not issued by its parent’s audience', async () => {
    const toBob = issueCapability(owner, { aud: bob.did, res, can: ['admin'], exp: NOW + HOUR })
    const stolen = issueCapability(mallory, { aud: edge.did, res, can: ['write'], exp: NOW + HOUR, prf: [toBob] })
    await expect(check(stolen)).rejects.toThrowError(refusedWith(ErrorCode.BrokenChain))
  })

  it('a read-only grant cannot write', async () => {
    const toBob = issueCapability(owner, { aud: bob.did, res, can: ['read', 'admin'], exp: NOW + HOUR })
    const readOnly = issueCapability(bob, { aud: edge.did, res, can: ['read'], exp: NOW + HOUR, prf: [toBob] })
    expect((await check(readOnly, 'read')).can).toEqual(['read'])
    await expect(check(readOnly, 'write')).rejects.toThrowError(refusedWith(ErrorCode.Forbidden))
  })

  it('refuses a token when it or any of its proofs is revoked', async () => {
    const { toBob, toCarol, invocation } = chain()
    for (const revoked of [toBob, toCarol, invocation]) {
      await expect(check(invocation, 'write', { revoked: new Set([capabilityId(revoked)]) })).rejects.toThrowError(
        refusedWith(ErrorCode.TokenRevoked),
      )
    }
  })

  it('refuses malformed text', async () => {
    for (const text of ['', '!!!', encodeCapabilityText(chain().invocation).slice(0, 40)]) {
      expect(() => decodeCapabilityText(text)).toThrowError(refusedWith(ErrorCode.InvalidToken))
    }
  })
})

describe('revocations', () => {
  it('may be issued by any issuer of the chain, and by no one else', async () => {
    const { toCarol } = chain()
    for (const issuer of [owner, bob]) {
      const rev = decodeRevocation(encodeRevocation(createRevocation(issuer, toCarol)))
      await expect(validateRevocation(rev, toCarol)).resolves.toBeUndefined()
    }
    await expect(validateRevocation(createRevocation(mallory, toCarol), toCarol)).rejects.toThrowError(
      refusedWith(ErrorCode.Forbidden),
    )
    const rev = createRevocation(bob, toCarol)
    await expect(validateRevocation({ ...rev, iat: rev.iat + 1 }, toCarol)).rejects.toThrowError(
      refusedWith(ErrorCode.InvalidSignature),
    )
  })
})
