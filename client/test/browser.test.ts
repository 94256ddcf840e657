import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { launchChromium } from './chromium.ts'

const edge = inject('edgeUrl')
let browser: Browser

beforeAll(async () => {
  browser = await launchChromium()
}, 120_000)

afterAll(async () => {
  await browser?.close()
})

async function open(context: BrowserContext, room: string, name: string): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${edge}/#${room}`)
  await page.locator('#state[data-state="synced"]').waitFor()
  await page.fill('#name', name)
  await page.locator('#name').dispatchEvent('change')
  return page
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text', text)
  await page.click('button')
}

const messages = (page: Page) => page.locator('#messages li')

describe('the demo in Chromium', () => {
  it('two people chat, see each other, and one can write offline', async () => {
    const room = `room-${crypto.randomUUID()}`
    const alice = await open(await browser.newContext(), room, 'Alice')
    const bobContext = await browser.newContext()
    const bob = await open(bobContext, room, 'Bob')

    expect(await alice.evaluate(() => (globalThis as unknown as { vivim: { states: string[] } }).vivim.states)).toEqual(
      ['offline', 'connecting', 'syncing', 'synced'],
    )

    await say(alice, 'hello from Alice')
    await expect.poll(() => messages(bob).allTextContents()).toEqual(['Alicehello from Alice'])
    await say(bob, 'hi Alice')
    await expect.poll(() => messages(alice).allTextContents()).toEqual(['Alicehello from Alice', 'Bobhi Alice'])

    await expect.poll(() => alice.locator('#presence span').allTextContents()).toContain('Bob')
    await expect.poll(() => bob.locator('#presence span').allTextContents()).toContain('Alice')

    // Bob goes offline, writes, and reloads the tab before he is back: nothing is lost.
    await bob.evaluate(() =>
      (globalThis as unknown as { vivim: { provider: { disconnect(): void } } }).vivim.provider.disconnect(),
    )
    await bob.locator('#state[data-state="offline"]').waitFor()
    await expect.poll(() => alice.locator('#presence span').allTextContents()).not.toContain('Bob')
    await say(bob, 'written offline')
    await expect.poll(() => messages(bob).count()).toBe(3)
    await bob.reload()
    await bob.locator('#state[data-state="synced"]').waitFor()
    await expect
      .poll(() => messages(alice).allTextContents())
      .toEqual(['Alicehello from Alice', 'Bobhi Alice', 'Bobwritten offline'])

    // Presence leaves with the tab.
    await expect.poll(() => alice.locator('#presence span').count()).toBe(2)
    await bob.close()
    await expect.poll(() => alice.locator('#presence span').allTextContents()).toEqual(['Alice'])
  })
})
