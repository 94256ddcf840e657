/**
 * A headless Chromium for browser tests, driven by playwright-core: the
 * system's when it has one (`CHROMIUM_PATH`, or Debian's `/usr/bin/chromium`),
 * else the one the `@sparticuz/chromium` npm package ships, unpacked on first
 * use. So `npm install && npm test` needs nothing but Node and npm.
 */
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

const SYSTEM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

/** Flags that keep a test browser quiet: no sandbox (containers), no GPU, no background traffic. */
const QUIET = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Where the Chromium in use lives, for the test's log. */
export let chromiumSource = ''

/** Starts Chromium with the quiet flags and `extraArgs`. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const system = process.env.CHROMIUM_PATH ?? SYSTEM_PATHS.find((path) => existsSync(path))
  if (system !== undefined) {
    chromiumSource = system
    return chromium.launch({ executablePath: system, args: [...QUIET, ...extraArgs] })
  }
  const { default: packaged } = await import('@sparticuz/chromium')
  packaged.setGraphicsMode = false
  const executablePath = await packaged.executablePath()
  chromiumSource = `@sparticuz/chromium (${executablePath})`
  return chromium.launch({ executablePath, args: [...packaged.args, ...QUIET, ...extraArgs] })
}
