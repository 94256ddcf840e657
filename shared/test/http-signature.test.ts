import { utf8ToBytes } from '@noble/hashes/utils.js'
import { base64, base64urlnopad } from '@scure/base'
import { describe, expect, it } from 'vitest'
import {
  contentDigest,
  contentDigestMatches,
  generateIdentity,
  type HttpMessage,
  identityFromSecretKey,
  parseSignatureInput,
  publicKeyFromDid,
  signatureBase,
  signMessage,
  verifyMessage,
} from '../src/index.ts'

// RFC 9421 Appendix B.1.4 (test-key-ed25519, JWK `d` and `x`) and B.2.6.
const RFC_SEED = base64urlnopad.decode('n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU')
const RFC_PUBLIC = base64urlnopad.decode('JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs')
const RFC_INPUT =
  'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"'
const RFC_SIGNATURE =
  'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:'
const RFC_BASE = [
  '"date": Tue, 20 Apr 2021 02:07:55 GMT',
  '"@method": POST',
  '"@path": /foo',
  '"@authority": example.com',
  '"content-type": application/json',
  '"content-length": 18',
  '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
].join('\n')

function message(url: string, fields: Record<string, string>, method = 'POST'): HttpMessage {
  const lower = new Map(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v]))
  return { method, url, header: (name) => lower.get(name) ?? null }
}

const rfcRequest = (extra: Record<string, string> = {}) =>
  message('https://example.com/foo?param=Value&Pet=dog', {
    Host: 'example.com',
    Date: 'Tue, 20 Apr 2021 02:07:55 GMT',
    'Content-Type': 'application/json',
    'Content-Length': '18',
    ...extra,
  })

describe('RFC 9421 B.2.6 (ed25519)', () => {
  const components = ['date', '@method', '@path', '@authority', 'content-type', 'content-length']

  it('builds the signature base of the RFC byte for byte', async () => {
    const input = parseSignatureInput(RFC_INPUT).get('sig-b26')
    expect(input?.components).toEqual(components)
    expect(signatureBase(rfcRequest(), components, input?.serialized ?? '')).toBe(RFC_BASE)
  })

  it('signs to the RFC signature exactly', async () => {
    const key = identityFromSecretKey(RFC_SEED)
    expect(key.publicKey).toEqual(RFC_PUBLIC)
    const fields = signMessage(key, rfcRequest(), {
      label: 'sig-b26',
      components,
      created: 1618884473,
      keyid: 'test-key-ed25519',
    })
    expect(fields['signature-input']).toBe(RFC_INPUT)
    expect(fields.signature).toBe(RFC_SIGNATURE)
  })

  it('verifies the RFC signature, and refuses it once a covered field changes', async () => {
    const publicKeyOf = (keyid: string) => (keyid === 'test-key-ed25519' ? RFC_PUBLIC : null)
    const signed = { 'Signature-Input': RFC_INPUT, Signature: RFC_SIGNATURE }
    expect((await verifyMessage(rfcRequest(signed), { publicKeyOf })).params.created).toBe(1618884473)
    await expect(verifyMessage(rfcRequest({ ...signed, 'Content-Length': '19' }), { publicKeyOf })).rejects.toThrow(
      expect.objectContaining({ code: 'invalid_signature' }),
    )
  })
})

describe('RFC 9530 Content-Digest', () => {
  it('matches the RFC value for {"hello": "world"}', async () => {
    const body = utf8ToBytes('{"hello": "world"}')
    expect(contentDigest(body)).toBe('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:')
    expect(contentDigestMatches(contentDigest(body), body)).toBe(true)
    expect(contentDigestMatches(contentDigest(body), body.subarray(1))).toBe(false)
    expect(contentDigestMatches(null, body)).toBe(false)
    expect(contentDigestMatches('sha-256=:!!:', body)).toBe(false)
  })
})

describe('signing federation requests', () => {
  const alice = generateIdentity()
  const components = ['@method', '@path', 'content-digest', 'vivim-origin']
  const body = utf8ToBytes('hello')
  const fields = { 'Content-Digest': contentDigest(body), 'Vivim-Origin': 'a.example' }
  const url = 'https://b.example/v1/federation/inbox'
  const signed = signMessage(alice, message(url, fields), {
    components,
    created: 1_800_000_000,
    nonce: 'n1',
    alg: 'ed25519',
    keyid: alice.did,
  })
  const publicKeyOf = (keyid: string) => publicKeyFromDid(keyid)
  const withSig = (extra: Record<string, string> = {}, u = url) =>
    message(u, { ...fields, 'Signature-Input': signed['signature-input'], Signature: signed.signature, ...extra })

  it('round-trips, returning keyid, created and nonce', async () => {
    const verified = await verifyMessage(withSig(), { publicKeyOf, required: components })
    expect(verified.params).toEqual({ created: 1_800_000_000, nonce: 'n1', alg: 'ed25519', keyid: alice.did })
  })

  it('refuses another path, another origin field, another key, and a missing signature', async () => {
    const code = (c: string) => expect.objectContaining({ code: c })
    await expect(verifyMessage(withSig({}, 'https://b.example/v1/other'), { publicKeyOf })).rejects.toThrow(
      code('invalid_signature'),
    )
    await expect(verifyMessage(withSig({ 'Vivim-Origin': 'evil.example' }), { publicKeyOf })).rejects.toThrow(
      code('invalid_signature'),
    )
    const mallory = generateIdentity()
    await expect(verifyMessage(withSig(), { publicKeyOf: () => mallory.publicKey })).rejects.toThrow(
      code('invalid_signature'),
    )
    await expect(verifyMessage(message(url, fields), { publicKeyOf })).rejects.toThrow(code('signature_required'))
  })

  it('refuses a signature that does not cover what is required, or another algorithm', async () => {
    await expect(verifyMessage(withSig(), { publicKeyOf, required: [...components, '@query'] })).rejects.toThrow(
      expect.objectContaining({ code: 'invalid_signature' }),
    )
    const other = signed['signature-input'].replace('alg="ed25519"', 'alg="rsa-pss-sha512"')
    await expect(verifyMessage(withSig({ 'Signature-Input': other }), { publicKeyOf })).rejects.toThrow(
      expect.objectContaining({ code: 'invalid_signature' }),
    )
  })

  it('refuses malformed fields with invalid_signature', async () => {
    for (const bad of ['sig1=', 'sig1=("@method"', 'sig1=("@method");created=x', '=()', 'sig1=()garbage']) {
      await expect(verifyMessage(withSig({ 'Signature-Input': bad }), { publicKeyOf })).rejects.toThrow(
        expect.objectContaining({ code: 'invalid_signature' }),
      )
    }
    const notBase64 = withSig({ Signature: `sig1=:${base64.encode(new Uint8Array(64)).slice(1)}:` })
    await expect(verifyMessage(notBase64, { publicKeyOf })).rejects.toThrow(
      expect.objectContaining({ code: 'invalid_signature' }),
    )
  })
})
