import { sha256 } from '@noble/hashes/sha2.js'
import { base58 } from '@scure/base'
import { describe, expect, it } from 'vitest'
import { ErrorCode } from '../src/errors.ts'
import { generateIdentity } from '../src/identity.ts'
import { Limits } from '../src/limits.ts'
import { isMultiaddr, isPeerId, isProviderPeer, parseProviderAnnouncement } from '../src/record-providers.ts'

// An Ed25519 libp2p peer id (identity multihash of the protobuf public key) and an RSA-style one (sha2-256).
const ED25519_PEER = '12D3KooW9pUQdmE58XE1LnjngZx1JxtnP81vj7WuvJGiYdc88eHW'
const SHA256_PEER = base58.encode(Uint8Array.of(0x12, 32, ...sha256(new Uint8Array([1, 2, 3]))))
const failsWith = (code: ErrorCode) => expect.objectContaining({ code })

describe('provider peers', () => {
  it('accepts libp2p peer ids and did:key DIDs', () => {
    expect(isPeerId(ED25519_PEER)).toBe(true)
    expect(SHA256_PEER.startsWith('Qm')).toBe(true)
    expect(isPeerId(SHA256_PEER)).toBe(true)
    expect(isProviderPeer(generateIdentity().did)).toBe(true)
  })

  it.each([
    ['empty', ''],
    ['not base58', '12D3KooW0OIl'],
    ['a truncated peer id', ED25519_PEER.slice(0, -3)],
    ['an unknown multihash', base58.encode(Uint8Array.of(0x13, 2, 1, 2))],
    ['a sha2-256 multihash of the wrong length', base58.encode(Uint8Array.of(0x12, 3, 1, 2, 3))],
    ['an over-long identity multihash', base58.encode(Uint8Array.of(0, 43, ...new Uint8Array(43)))],
    ['a DID of another method', 'did:web:example.com'],
  ])('refuses %s', (_, value) => {
    expect(isProviderPeer(value)).toBe(false)
  })
})

describe('multiaddrs', () => {
  it.each([
    '/ip4/203.0.113.7/tcp/4001',
    `/ip4/203.0.113.7/tcp/4001/p2p/${ED25519_PEER}`,
    '/ip6/2001:db8::1/udp/4001/quic-v1',
    '/ip6/::ffff:192.0.2.1/tcp/443/wss',
    '/dns4/relay.example.com/tcp/443/wss',
    '/dnsaddr/bootstrap.libp2p.io',
    `/ip4/198.51.100.2/udp/9090/webrtc-direct/certhash/uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_bYD3SJD2Iv3Q/p2p/${ED25519_PEER}`,
    `/ip4/192.0.2.9/tcp/4001/p2p/${ED25519_PEER}/p2p-circuit`,
  ])('accepts %s', (addr) => {
    expect(isMultiaddr(addr)).toBe(true)
  })

  it.each([
    ['no leading slash', 'ip4/1.2.3.4/tcp/1'],
    ['an unknown protocol', '/ip4/1.2.3.4/sctp/1'],
    ['a missing value', '/ip4/1.2.3.4/tcp'],
    ['an octet over 255', '/ip4/1.2.3.256/tcp/1'],
    ['a port over 65535', '/ip4/1.2.3.4/tcp/65536'],
    ['a port with a leading zero', '/ip4/1.2.3.4/tcp/080'],
    ['an ip6 with two ::', '/ip6/1::2::3/tcp/1'],
    ['a host with an underscore', '/dns4/bad_host.example/tcp/1'],
    ['a bad peer id', '/ip4/1.2.3.4/tcp/1/p2p/nope'],
    ['a space', '/dns4/a b/tcp/1'],
    ['non-ASCII', '/dns4/exämple.com/tcp/1'],
    ['an empty component', '/ip4//tcp/1'],
    ['an over-long address', `/dns4/${'a.'.repeat(Limits.maxMultiaddrBytes / 2)}com/tcp/1`],
  ])('refuses %s', (_, addr) => {
    expect(isMultiaddr(addr)).toBe(false)
  })
})

describe('provider announcements', () => {
  it('reads peer, multiaddrs and ttl, defaulting ttl to the maximum', () => {
    expect(parseProviderAnnouncement({ peer: ED25519_PEER, multiaddrs: ['/ip4/1.2.3.4/tcp/1'], ttl: 60 })).toEqual({
      peer: ED25519_PEER,
      multiaddrs: ['/ip4/1.2.3.4/tcp/1'],
      ttlMs: 60_000,
    })
    expect(parseProviderAnnouncement({ peer: ED25519_PEER }).ttlMs).toBe(Limits.maxProviderTtlMs)
  })

  it.each([
    ['a body that is not an object', 'peer'],
    ['an unknown field', { peer: ED25519_PEER, extra: true }],
    ['a bad peer', { peer: 'alice' }],
    ['multiaddrs that are not an array', { peer: ED25519_PEER, multiaddrs: '/ip4/1.2.3.4/tcp/1' }],
    [
      'too many multiaddrs',
      {
        peer: ED25519_PEER,
        multiaddrs: Array.from({ length: Limits.maxProviderMultiaddrs + 1 }, (_, i) => `/ip4/1.2.3.4/tcp/${i + 1}`),
      },
    ],
    ['a repeated multiaddr', { peer: ED25519_PEER, multiaddrs: ['/ip4/1.2.3.4/tcp/1', '/ip4/1.2.3.4/tcp/1'] }],
    ['a ttl of zero', { peer: ED25519_PEER, ttl: 0 }],
    ['a ttl past 24 hours', { peer: ED25519_PEER, ttl: Limits.maxProviderTtlMs / 1000 + 1 }],
    ['a fractional ttl', { peer: ED25519_PEER, ttl: 1.5 }],
  ])('refuses %s with invalid_provider', (_, body) => {
    expect(() => parseProviderAnnouncement(body)).toThrowError(failsWith(ErrorCode.InvalidProvider))
  })
})
