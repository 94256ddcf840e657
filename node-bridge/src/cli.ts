#!/usr/bin/env node
/**
 * `vivim-bridge` (`npm run bridge` in this repository): parses the flags
 * (`options.ts`), starts the bridge and stops it cleanly on SIGINT or
 * SIGTERM (edge sockets closed, libp2p stopped, the datastore flushed and
 * closed), exiting 0. A second signal while stopping exits at once.
 *
 * @example
 * ```sh
 * npx vivim-bridge --edge http://127.0.0.1:8787 --topic 'public:*' --data-dir ./bridge-data
 * ```
 */
import { VivimError } from '@vivim/shared'
import { createBridge } from './bridge.ts'
import { createLogger } from './log.ts'
import { helpText, parseOptions } from './options.ts'

async function main(): Promise<number> {
  let options: ReturnType<typeof parseOptions>
  try {
    options = parseOptions(process.argv.slice(2), process.env, process.stdout.isTTY === true)
  } catch (error) {
    process.stderr.write(`vivim-bridge: ${(error as Error).message}\n\n${helpText()}`)
    return 2
  }
  if (options.help) {
    process.stdout.write(helpText())
    return 0
  }
  const log = createLogger(options.log)
  let bridge: Awaited<ReturnType<typeof createBridge>>
  try {
    bridge = await createBridge(options.init, { log })
  } catch (error) {
    const code = error instanceof VivimError ? error.code : 'internal'
    log.error('bridge failed to start', { code, error: (error as Error).message })
    return 1
  }
  return await new Promise<number>((done) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) process.exit(130)
      stopping = true
      log.info('stopping', { signal })
      bridge.stop().then(
        () => done(0),
        (error: Error) => {
          log.error('stop failed', { error: error.message })
          done(1)
        },
      )
    }
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))
  })
}

process.exitCode = await main()
