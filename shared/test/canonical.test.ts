import { hexToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { type CanonicalValue, compareBytes, decodeCanonical, encodeCanonical } from '../src/canonical.ts'
import { ErrorCode } from '../src/errors.ts'

const invalidEncoding = expect.objectContaining({ code: ErrorCode.InvalidEncoding })

describe('canonical encoding', () => {
  it('is byte-identical for the same value built in a different key order', () => {
    const a = { key: '/vivim/x', nested: { z: 1, a: [1, 2], m: null }, flag: true }
    const b = { flag: true, nested: { m: null, a: [1, 2], z: 1 }, key: '/vivim/x' }
    expect(encodeCanonical(a)).toEqual(encodeCanonical(b))
  })

  it('produces the RFC 8949 deterministic bytes', () => {
    // RFC 8949 Appendix A: {"a": 1, "b": [2, 3]}
    expect(encodeCanonical({ b: [2, 3], a: 1 })).toEqual(hexToBytes('a26161016162820203'))
    // shorter keys sort first (bytewise order of the encoded keys): "b" before "aa"
    expect(encodeCanonical({ aa: 1, b: 2 })).toEqual(hexToBytes('a261620262616101'))
    // integers and lengths in shortest form
    expect(encodeCanonical(23)).toEqual(hexToBytes('17'))
    expect(encodeCanonical(24)).toEqual(hexToBytes('1818'))
    expect(encodeCanonical(-1)).toEqual(hexToBytes('20'))
    expect(encodeCanonical(1.5)).toEqual(hexToBytes('f93e00'))
  })

  it('round-trips every supported type', () => {
    const values: CanonicalValue[] = [
      null,
      true,
      false,
      0,
      -42,
      Number.MAX_SAFE_INTEGER,
      0.25,
      '',
      'héllo ✓',
      new Uint8Array([0, 1, 255]),
      [],
      [1, 'two', [3], { four: 4 }],
      {},
      { bytes: new Uint8Array(70_000), list: [null, false], deep: { deeper: { deepest: 'x' } } },
    ]
    for (const value of values) {
      expect(decodeCanonical(encodeCanonical(value))).toEqual(value)
    }
  })

  it.each([
    ['a map with unsorted keys', 'a2616202616101'],
    ['an integer not in shortest form', '1817'],
    ['a length not in shortest form', '7801' + '61'],
    ['an indefinite-length array', '9f01ff'],
    ['duplicate map keys', 'a2616101616102'],
    ['undefined', 'f7'],
    ['NaN', 'f97e00'],
    ['infinity', 'f97c00'],
    ['a tag', 'c11a514b67b0'],
    ['a bigint', 'c249010000000000000000'],
    ['a float that fits a shorter form', 'fb3ff8000000000000'],
    ['truncated input', 'a26161'],
    ['trailing bytes', '0101'],
    ['a map with an integer key', 'a10102'],
  ])('decode rejects %s', (_, hex) => {
    expect(() => decodeCanonical(hexToBytes(hex))).toThrowError(invalidEncoding)
  })

  it.each([
    ['undefined', undefined],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a bigint', 10n],
    ['NaN', Number.NaN],
    ['an unsafe integer', 2 ** 60],
    ['a class instance', new (class Point {})()],
  ])('encode refuses %s', (_, value) => {
    expect(() => encodeCanonical(value as unknown as CanonicalValue)).toThrowError(invalidEncoding)
    expect(() => encodeCanonical({ nested: [value] } as unknown as CanonicalValue)).toThrowError(invalidEncoding)
  })

  it('orders bytes lexicographically', () => {
    expect(compareBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBeLessThan(0)
    expect(compareBytes(new Uint8Array([2]), new Uint8Array([1, 9]))).toBeGreaterThan(0)
    expect(compareBytes(new Uint8Array([1]), new Uint8Array([1, 0]))).toBeLessThan(0)
    expect(compareBytes(new Uint8Array([7, 7]), new Uint8Array([7, 7]))).toBe(0)
  })
})
