// y-partyserver's YServer as its README sets it up, with no persistence
// (onLoad/onSave left empty: in memory, like the other reference servers),
// in both socket modes, for the document fan-out benchmark (bench/docs/run.ts):
//   /parties/y-doc/<docId>      YDoc, plain sockets (`accept()`)
//   /parties/y-doc-hib/<docId>  YDocHib, hibernatable sockets (`ctx.acceptWebSocket`)
// Namespaces are the bindings' names kebab-cased, as routePartykitRequest matches them.
import { routePartykitRequest } from 'partyserver'
import { YServer } from 'y-partyserver'

export class YDoc extends YServer {}

export class YDocHib extends YServer {
  static options = { hibernate: true }
}

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === '/') return new Response('ok')
    return (await routePartykitRequest(request, env)) ?? new Response('Not Found', { status: 404 })
  },
}
