/**
 * Child process entry: `@hocuspocus/server` with its defaults and no
 * extensions (no persistence, no auth hook, so any token is accepted), on
 * 127.0.0.1:<port>. Its own `listen()` binds every interface, so the HTTP
 * server is started directly. Usage: node bench/docs/hocuspocus-server.ts <port>
 */
import { Server } from '@hocuspocus/server'

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0) throw new Error('usage: hocuspocus-server.ts <port>')

const server = new Server({ port, quiet: true, stopOnSignals: false })

const stop = () => {
  void server.destroy().finally(() => process.exit(0))
  setTimeout(() => process.exit(0), 2_000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

server.httpServer.listen({ port, host: '127.0.0.1' }, () => {
  console.log(`hocuspocus listening on 127.0.0.1:${port}`)
})
