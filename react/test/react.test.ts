/**
 * `@vivim/react` in Chromium against the real edge: a page made of
 * `test/app.ts` (in StrictMode) and a Node client share a document, presence,
 * a topic and a record. Vite's dev server serves the page from the sources
 * and proxies `/v1` to the edge, so the page reaches the edge at its own
 * origin, as an app served beside it would.
 */
import { VivimClient, type VivimDocProvider } from '@vivim/client'
import { createRecord, formatRecordKey, generateIdentity } from '@vivim/shared'
import type { Browser, Page } from 'playwright-core'
import { createServer, type ViteDevServer } from 'vite'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { launchChromium } from '../../client/test/chromium.ts'

const edge = inject('edgeUrl')
let browser: Browser
let server: ViteDevServer | undefined
let origin = ''

beforeAll(async () => {
  server = await createServer({
    root: import.meta.dirname,
    configFile: false,
    logLevel: 'error',
    server: {
      host: '127.0.0.1',
      port: 0,
      hmr: false,
      watch: null,
      proxy: { '/v1': { target: edge, ws: true } },
    },
  })
  await server.listen()
  origin = (server.resolvedUrls?.local[0] ?? '').replace(/\/$/, '')
  browser = await launchChromium()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

async function openPage(query: URLSearchParams): Promise<Page> {
  const page = await browser.newPage()
  await page.goto(`${origin}/?${query}`)
  return page
}

function synced(provider: VivimDocProvider): Promise<void> {
  return new Promise((resolve) => {
    if (provider.state.value === 'synced') return resolve()
    provider.state.on((s) => s === 'synced' && resolve())
  })
}

const names = (provider: VivimDocProvider) =>
  [...provider.awareness.getStates().entries()]
    .filter(([id]) => id !== provider.awareness.clientID)
    .map(([, state]) => state.name as string)

describe('@vivim/react in Chromium', () => {
  it('shares a document, presence, a topic, a record and version history with a Node client, and lets go on unmount', async () => {
    const me = generateIdentity()
    const node = new VivimClient({ edge, identity: me, token: null })
    const docId = `notes:react-${crypto.randomUUID()}`
    const topic = `public:chat:react-${crypto.randomUUID()}`
    const recordKey = formatRecordKey({ kind: 'profile', owner: me.did })
    const provider = node.document(docId)
    await synced(provider)
    provider.awareness.setLocalState({ name: 'node' })
    const heard: string[] = []
    const stop = node.subscribe(topic, (m) => heard.push(m.text()), { cursor: 0 })

    const page = await openPage(new URLSearchParams({ doc: docId, topic, record: recordKey }))
    await page.locator('#state[data-state="synced"]').waitFor()
    await page.locator('#record[data-loading="false"]').waitFor()
    expect(await page.textContent('#record')).toBe('none')

    // The document, both ways.
    provider.doc.getMap('note').set('text', 'from node')
    await expect.poll(() => page.textContent('#note')).toBe('from node')
    await page.click('#write')
    await expect.poll(() => provider.doc.getMap('note').get('text')).toBe('from react')

    // Version history: a named version, previewed, then restored as a change both clients receive.
    await page.click('#save-version')
    await expect.poll(() => page.locator('#versions li').allTextContents()).toEqual(['checkpoint'])
    await page.click('#preview-checkpoint')
    await expect.poll(() => page.textContent('#preview')).toBe('from react')
    provider.doc.getMap('note').set('text', 'after the checkpoint')
    await expect.poll(() => page.textContent('#note')).toBe('after the checkpoint')
    await page.click('#restore-checkpoint')
    await expect.poll(() => page.textContent('#note')).toBe('from react')
    await expect.poll(() => provider.doc.getMap('note').get('text')).toBe('from react')
    await expect.poll(() => page.locator('#versions li').allTextContents()).toEqual(['before-restore', 'checkpoint'])

    // Presence, both ways.
    await expect.poll(() => page.locator('#others li').allTextContents()).toEqual(['node'])
    expect(await page.textContent('#me')).toBe('browser')
    await expect.poll(() => names(provider)).toEqual(['browser'])

    // The topic, both ways; the callback sees each message once.
    await expect.poll(() => page.locator('#messages li').count()).toBe(0)
    await node.publish(topic, 'hello react')
    await expect.poll(() => page.locator('#messages li').allTextContents()).toEqual(['hello react'])
    await page.click('#publish')
    await expect.poll(() => heard).toContain('hello node')
    await expect.poll(() => page.locator('#messages li').allTextContents()).toEqual(['hello react', 'hello node'])
    expect(await page.textContent('#heard')).toBe('hello react,hello node')

    // A record, read again on refresh.
    await node.records.put(
      createRecord(me, { key: recordKey, value: new TextEncoder().encode('a profile'), public: true }),
    )
    await page.click('#refresh')
    await expect.poll(() => page.textContent('#record')).toBe('a profile')

    // Unmounting the last component on the document closes its connection: the presence leaves.
    await page.click('#toggle')
    await expect.poll(() => names(provider)).toEqual([])

    stop()
    provider.destroy()
    await page.close()
  })
})
