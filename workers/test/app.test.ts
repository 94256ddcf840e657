import { exports } from 'cloudflare:workers'
import { ErrorCode, Limits } from '@vivim/shared'
import { describe, expect, it } from 'vitest'
import { version } from '../../package.json'

const BASE = 'http://edge.test'

function edge(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init))
}

async function expectError(res: Response, status: number, code: ErrorCode): Promise<void> {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const body = (await res.json()) as { error: { code: string; message: string } }
  expect(Object.keys(body)).toEqual(['error'])
  expect(body.error.code).toBe(code)
  expect(body.error.message.length).toBeGreaterThan(0)
}

describe('edge app', () => {
  it('GET /healthz answers with the build version', async () => {
    const res = await edge('/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok', name: 'vivim-edge', version })
  })

  it('an unknown route is 404 in the JSON error shape', async () => {
    await expectError(await edge('/no/such/route'), 404, ErrorCode.NotFound)
  })

  it('a known route with the wrong method is 405 with Allow', async () => {
    const res = await edge('/healthz', { method: 'DELETE' })
    expect(res.headers.get('allow')).toBe('GET, HEAD')
    await expectError(res, 405, ErrorCode.MethodNotAllowed)
  })

  it('an oversized body is 413 before any route reads it', async () => {
    const body = new Uint8Array(Limits.maxRequestBodyBytes + 1)
    await expectError(await edge('/healthz', { method: 'POST', body }), 413, ErrorCode.PayloadTooLarge)
  })

  it('a body at the limit is not refused for its size', async () => {
    const body = new Uint8Array(Limits.maxRequestBodyBytes)
    await expectError(await edge('/healthz', { method: 'POST', body }), 405, ErrorCode.MethodNotAllowed)
  })
})
