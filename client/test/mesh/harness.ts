/**
 * What the mesh browser tests stand on: a real bridge on 127.0.0.1 (its
 * WebSockets address is what pages dial), the test page bundled by esbuild
 * and served from 127.0.0.1 (a secure context, so WebCrypto runs), and
 * Chromium with WebRTC allowed on loopback, its host candidates not hidden
 * behind mDNS names (nothing here answers mDNS).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createBridge, type VivimBridge } from '@vivim/bridge'
import { build } from 'esbuild'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../chromium.ts'
import type { MeshPage, MeshPageStart } from './page-api.ts'

export const WEBRTC_ON_LOOPBACK = [
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
]

/** A bridge with a WebSockets listener on loopback and no edge: the mesh side alone. */
export async function startMeshBridge(): Promise<{ bridge: VivimBridge; address: string }> {
  const bridge = await createBridge({
    listen: ['/ip4/127.0.0.1/tcp/0/ws'],
    bootstrap: [],
    mdns: false,
    dataDir: null,
    edgeUrl: null,
    topics: [],
  })
  const address = bridge.multiaddrs().find((a) => a.toString().includes('/ws'))
  if (address === undefined) throw new Error('the bridge listens on no WebSockets address')
  return { bridge, address: address.toString() }
}

/** Serves the bundled test page on 127.0.0.1; returns its URL and the server. */
export async function serveMeshPage(): Promise<{ url: string; server: Server }> {
  const bundle = await build({
    entryPoints: [join(import.meta.dirname, 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'warning',
  })
  const script = bundle.outputFiles[0]?.contents
  if (script === undefined) throw new Error('the page did not bundle')
  const html = '<!doctype html><meta charset="utf-8"><title>mesh</title><script type="module" src="/page.js"></script>'
  const server = createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
    else res.writeHead(200, { 'content-type': 'text/html' }).end(html)
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server }
}

/** A page in its own browser context (its own storage, as another user's tab), its peer started. */
export async function openMeshPage(
  browser: Browser,
  url: string,
  init: MeshPageStart,
): Promise<{ page: Page; id: string }> {
  const page = await (await browser.newContext()).newPage()
  if (process.env.MESH_DEBUG) {
    await page.addInitScript((d) => localStorage.setItem('debug', d), process.env.MESH_DEBUG)
    page.on('console', (m) => console.log(`[page] ${m.text()}`))
  }
  await page.goto(url)
  await page.waitForFunction(() => 'meshPage' in globalThis)
  const id = await page.evaluate((i) => (globalThis as unknown as { meshPage: MeshPage }).meshPage.start(i), init)
  return { page, id }
}

type Method = keyof MeshPage
type Result<M extends Method> = Awaited<ReturnType<MeshPage[M]>>

/** Calls `meshPage[method](...args)` in the page. */
export function call<M extends Method>(page: Page, method: M, ...args: Parameters<MeshPage[M]>): Promise<Result<M>> {
  return page.evaluate(
    ({ method, args }) => {
      const mesh = (globalThis as unknown as { meshPage: Record<string, (...a: unknown[]) => unknown> }).meshPage
      return mesh[method]?.(...args)
    },
    { method, args: args as unknown[] },
  ) as Promise<Result<M>>
}

export { launchChromium }
