/**
 * Keeps `docs/` true to the code: what an outside implementer reads in
 * `docs/protocol.md` (close codes, error codes and their statuses, limits,
 * frame kinds, test vectors), the activities of `docs/federation.md`, and the
 * settings and commands of `docs/deploy.md` are checked against `shared/src/`,
 * `wrangler.toml` and `package.json`. Changing a code, a limit or a setting
 * without the page fails here.
 */
import { describe, expect, it } from 'vitest'
import { CloseCode } from '../src/close-codes.ts'
import { MessageType } from '../src/doc-protocol.ts'
import { ErrorCode, httpStatusOf, isErrorCode } from '../src/errors.ts'
import { ActivityType } from '../src/federation-transaction.ts'
import { Limits } from '../src/limits.ts'
import { SealedFrameType } from '../src/sealed-doc.ts'
import { TopicFrameType } from '../src/topic-protocol.ts'

// `shared/` is typed without Node's types (it runs everywhere), so the few Node APIs a test needs are typed here.
interface NodeFs {
  readFileSync(path: string, encoding: 'utf8'): string
  existsSync(path: string): boolean
  readdirSync(path: string): string[]
}
const fs = (await import('node:fs' as string)) as NodeFs
const { dirname, resolve } = (await import('node:path' as string)) as {
  dirname(path: string): string
  resolve(...parts: string[]): string
}
const { fileURLToPath } = (await import('node:url' as string)) as { fileURLToPath(url: string): string }

const root = resolve(dirname(fileURLToPath((import.meta as unknown as { url: string }).url)), '..', '..')
const read = (path: string) => fs.readFileSync(resolve(root, path), 'utf8')
const protocol = read('docs/protocol.md')
/** The page with every run of whitespace as one space, so a phrase may be wrapped anywhere. */
const flat = protocol.replace(/\s+/g, ' ')

/** The section under the `## <title>` heading, up to the next `## `. */
function section(doc: string, title: string): string {
  const start = doc.indexOf(`\n## ${title}`)
  expect(start, `docs: no section "## ${title}"`).toBeGreaterThanOrEqual(0)
  const end = doc.indexOf('\n## ', start + 1)
  return doc.slice(start, end === -1 ? undefined : end)
}

/** The rows of the first Markdown table after `after` in `text` whose header starts with `header`, as cells. */
function table(text: string, header: string, after = 0): string[][] {
  const lines = text.slice(after).split('\n')
  const start = lines.findIndex((line) => line.startsWith(`| ${header}`))
  expect(start, `docs: no table with header "| ${header}"`).toBeGreaterThanOrEqual(0)
  const rows: string[][] = []
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    )
  }
  return rows
}

/** The backticked words of a text that have the shape of an error code (`token_expired`). */
const codeLike = (text: string) => [...text.matchAll(/`([a-z]+(?:_[a-z]+)+)`/g)].map((m) => m[1] as string)

const UNITS: Record<string, number> = { KiB: 1024, MiB: 1024 * 1024, bytes: 1, min: 60_000, h: 3_600_000 }

/** The number `template`'s `{}` stands for in the page, in bytes or ms when it has a unit (`64 KiB`, `5 min`). */
function stated(template: string): number {
  const [before, after] = template.split('{}') as [string, string]
  const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const match = new RegExp(`${literal(before)}([\\d,]+)(?: (KiB|MiB|bytes|min|h))?${literal(after)}`).exec(flat)
  expect(match, `docs/protocol.md does not say "${template}"`).not.toBeNull()
  const [, digits, unit] = match as RegExpExecArray
  return Number((digits as string).replaceAll(',', '')) * (unit ? (UNITS[unit] as number) : 1)
}

describe('docs/protocol.md: close codes', () => {
  const closeSection = section(protocol, 'WebSocket close codes')
  const rows = table(closeSection, 'code | meaning')
  const documented = rows.map((row) => Number(row[0]))

  it('lists every code of shared/src/close-codes.ts, and only those', () => {
    expect([...documented].sort()).toEqual(Object.values(CloseCode).sort())
  })

  it('gives each code one row with a meaning', () => {
    expect(new Set(documented).size).toBe(documented.length)
    for (const row of rows) expect(row[1], `close code ${row[0]}`).not.toBe('')
  })

  const upgrades = table(closeSection, 'close | status')

  it('refused upgrades: each close is 4000 + the status of every error code in its row', () => {
    expect(upgrades.length).toBeGreaterThan(0)
    for (const [close, status, codes] of upgrades) {
      expect(Number(close), `row ${close}`).toBe(4000 + Number(status))
      const named = [...(codes as string).matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as string)
      expect(named.length, `row ${close} names no code`).toBeGreaterThan(0)
      for (const code of named) {
        expect(isErrorCode(code), `${code} is not in shared/src/errors.ts`).toBe(true)
        expect(httpStatusOf(code as ErrorCode), code).toBe(Number(status))
      }
    }
  })

  it('refused upgrades: every 4xxx row but the 5xx one is a close code of the first table', () => {
    for (const [close] of upgrades) {
      if (Number(close) < 4500) expect(documented).toContain(Number(close))
    }
  })

  it('a tampered token is 4400 invalid_signature, as the refusals say', () => {
    expect(httpStatusOf(ErrorCode.InvalidSignature) + 4000).toBe(CloseCode.BadFrame)
    const row = upgrades.find(([close]) => Number(close) === CloseCode.BadFrame) as string[]
    expect(codeLike(row[2] as string)).toContain(ErrorCode.InvalidSignature)
  })
})

describe('docs/protocol.md: error codes', () => {
  it('every error code the page names exists in shared/src/errors.ts', () => {
    const unknown = [...new Set(codeLike(protocol))].filter((code) => !isErrorCode(code))
    expect(unknown).toEqual([])
  })

  it('every "<status> <code>" the page states is that code’s HTTP status', () => {
    const pairs = [...flat.matchAll(/`(\d{3}) ([a-z]+(?:_[a-z]+)*)`/g)]
    expect(pairs.length).toBeGreaterThan(5)
    for (const [, status, code] of pairs) {
      expect(isErrorCode(code), `${code} is not in shared/src/errors.ts`).toBe(true)
      expect(httpStatusOf(code as ErrorCode), code).toBe(Number(status))
    }
  })

  it('the topic err frame’s codes exist', () => {
    const row = table(section(protocol, 'Topics'), 'frame').find(([frame]) => frame?.includes('"err"')) as string[]
    for (const code of codeLike(row[2] as string)) expect(isErrorCode(code), code).toBe(true)
  })
})

describe('docs/protocol.md: limits', () => {
  it('every Limits.<name> the page names exists', () => {
    const names = [...protocol.matchAll(/Limits\.(\w+)/g)].map((m) => m[1] as string)
    expect(names.length).toBeGreaterThan(0)
    for (const name of names) expect(Object.hasOwn(Limits, name), `Limits.${name}`).toBe(true)
  })

  it('a number written just before (`Limits.<name>`) is that limit', () => {
    const stated = [...flat.matchAll(/([\d,]+)(?: (KiB|MiB|bytes|min|h))? \(`Limits\.(\w+)`/g)]
    expect(stated.length).toBeGreaterThan(0)
    for (const [, digits, unit, name] of stated) {
      const value = Number((digits as string).replaceAll(',', '')) * (unit ? (UNITS[unit] as number) : 1)
      expect(value, `Limits.${name}`).toBe(Limits[name as keyof Limits])
    }
  })

  // Each phrase of the page that states a limit's number, and the limit.
  const claims: [template: string, value: number][] = [
    ['frames {} and', Limits.maxFrameBytes],
    ['and {} a second per socket', Limits.maxFramesPerSecond],
    ['a second per socket (bursts of {})', Limits.frameBurst],
    ['{} sockets per identity on one room', Limits.maxSocketsPerIdentity],
    ['HTTP bodies {},', Limits.maxRequestBodyBytes],
    ['records {} (values', Limits.maxRecordBytes],
    ['(values {})', Limits.maxRecordValueBytes],
    ['topic names {},', Limits.maxTopicNameBytes],
    ['documents {},', Limits.maxDocumentBytes],
    ['clock skew {};', Limits.maxClockSkewMs],
    ['providers {} a key', Limits.maxProvidersPerKey],
    ['a key ({} multiaddrs', Limits.maxProviderMultiaddrs],
    ['multiaddrs of {} each', Limits.maxMultiaddrBytes],
    ['each, {} at most)', Limits.maxProviderTtlMs],
    ['search text {} and', Limits.maxSearchQueryBytes],
    ['and {} words, pages', Limits.maxSearchTerms],
    ['pages of {};', Limits.maxPageSize],
    ['capability tokens {} with their proofs', Limits.maxCapabilityBytes],
    ['chains of at most {} links', Limits.maxCapabilityChain],
    ['topic payloads {} (envelopes', Limits.maxTopicPayloadBytes],
    ['(envelopes {})', Limits.maxTopicEnvelopeBytes],
    ['the whole key is at most {} UTF-8 bytes', Limits.maxRecordKeyBytes],
    ['hold the content; at most {},', Limits.maxRecordProviders],
    ['at most 32, each at most {} |', Limits.maxProviderBytes],
    ['the content, at most {} |', Limits.maxRecordValueBytes],
    ['the content, at most {}; empty means deleted', Limits.maxRecordValueBytes],
    ['at most {} (`Limits.maxCapabilityBytes`)', Limits.maxCapabilityBytes],
    ['A chain has at most {} links', Limits.maxCapabilityChain],
    ['After {} such updates in a row', Limits.maxIncompleteUpdates],
    ['holds at most {} sockets on one room', Limits.maxSocketsPerIdentity],
    ['An awareness state is at most {} characters', Limits.maxAwarenessStateBytes],
    ['speaks for at most {} awareness client ids', Limits.maxAwarenessIdsPerSocket],
    ['a room holds at most {} characters of awareness states', Limits.maxAwarenessRoomBytes],
    ['(default 1,000, at most {},', Limits.maxTopicHistoryMessages],
    ['one with more than {} messages unacknowledged', Limits.maxTopicUnacked],
    ['It remembers at most {} ids', Limits.maxTopicSeenIds],
    ['may publish {} messages a second', Limits.maxTopicPublishesPerSecond],
    ['messages a second, in bursts of {},', Limits.topicPublishBurst],
    ['reader that still acknowledges is {} messages behind', Limits.maxTopicReaderLag],
    ['4400 past {} rooms', Limits.maxSignalingTopics],
    ['4429 past {}/s of frames', Limits.maxSignalingBytesPerSecond],
    ['/s of frames (bursts of {})', Limits.signalingByteBurst],
    ['1009 for a message over {};', Limits.maxSignalingMessageBytes],
    ['`limit` is 1-{} (default', Limits.maxPageSize],
    ['(default {}); `cursor` (opaque)', Limits.defaultPageSize],
    ['at most {} per key', Limits.maxProvidersPerKey],
    ['`q` is at most {} and', Limits.maxSearchQueryBytes],
    ['`q` is at most 256 bytes and {} words', Limits.maxSearchTerms],
    ['| 1009 | a frame over {},', Limits.maxFrameBytes],
    ['a signaling message over {},', Limits.maxSignalingMessageBytes],
    ['an awareness state over {} characters |', Limits.maxAwarenessStateBytes],
    ['past {} |', Limits.maxDocumentBytes],
    ['more than {} awareness ids', Limits.maxAwarenessIdsPerSocket],
    ['more than 500 frames a second (bursts of {};', Limits.frameBurst],
    ['| 4429 | more than {} frames a second', Limits.maxFramesPerSecond],
  ]

  it.each(claims)('"%s" is %d', (template, value) => {
    expect(stated(template)).toBe(value)
  })
})

describe('docs/protocol.md: frames', () => {
  it('the document socket’s tag table has every y-protocols message type', () => {
    const rows = table(section(protocol, 'Documents: `/v1/docs/<docId>`'), 'tag')
    expect(rows.map((row) => Number(row[0]))).toEqual(Object.values(MessageType))
  })

  it('the topic frame table has every topic frame kind, and each frame once', () => {
    const rows = table(section(protocol, 'Topics: `/v1/topics/<topic>`'), 'frame')
    const kinds = rows.map((row) => /t: "(\w+)"/.exec(row[0] as string)?.[1])
    expect([...kinds].sort()).toEqual(Object.values(TopicFrameType).sort())
  })

  it('the sealed document frame table has every sealed frame kind', () => {
    const rows = table(section(protocol, 'End-to-end encryption'), 'frame')
    const kinds = rows.map((row) => /t: "(\w+)"/.exec(row[0] as string)?.[1])
    expect([...kinds].sort()).toEqual(Object.values(SealedFrameType).sort())
  })

  it('says that a topic frame’s `e` is a nested map, and that a plain subscriber first gets `live`', () => {
    expect(flat).toContain('`e` is the envelope itself as a nested CBOR map')
    expect(flat).toContain('it still first receives `{ t: "live", c }` with the topic\'s latest cursor')
  })

  it('says that a root capability’s `prf` is an empty array and a link’s holds one byte string', () => {
    const row = table(section(protocol, 'Credentials and capabilities'), 'field').find(([f]) => f === '`prf`')
    expect(row?.[1]).toBe('array of bytes')
    expect(row?.[2]).toContain('empty (`[]`) for a root')
    expect(row?.[2]).toContain('exactly one byte string')
  })
})

describe('docs/protocol.md: test vectors', () => {
  const named = [...new Set([...protocol.matchAll(/shared\/fixtures\/([\w.-]+\.json)/g)].map((m) => m[1] as string))]

  it('every fixture file the page names exists', () => {
    expect(named.length).toBeGreaterThan(0)
    for (const file of named) expect(fs.existsSync(resolve(root, 'shared/fixtures', file)), file).toBe(true)
  })

  it('names every fixture file there is', () => {
    const files = fs.readdirSync(resolve(root, 'shared/fixtures')).filter((f) => f.endsWith('.json'))
    expect([...named].sort()).toEqual(files.sort())
  })
})

describe('docs/federation.md', () => {
  const federation = read('docs/federation.md')

  it('the activity table has every activity type, and only those', () => {
    const rows = table(federation, '`t` | fields')
    expect(rows.map((row) => row[0]?.replaceAll('`', '')).sort()).toEqual(Object.values(ActivityType).sort())
  })

  it('the configuration table has every FEDERATION_ variable of wrangler.toml', () => {
    const vars = varsOf(read('wrangler.toml')).filter((name) => name.startsWith('FEDERATION_'))
    const documented = table(federation, 'var | meaning').flatMap((row) => [...(row[0] as string).matchAll(/`(\w+)`/g)])
    expect(documented.map((m) => m[1]).sort()).toEqual(vars.sort())
  })
})

/** The names of `wrangler.toml`'s `[vars]`. */
function varsOf(toml: string): string[] {
  const start = toml.indexOf('\n[vars]\n')
  const body = toml.slice(start + 8, toml.indexOf('\n[', start + 8))
  return [...body.matchAll(/^([A-Z][A-Z0-9_]*)\s*=/gm)].map((m) => m[1] as string)
}

describe('docs/deploy.md', () => {
  const deploy = read('docs/deploy.md')

  it('explains every [vars] setting of wrangler.toml and the EDGE_SECRET_KEY secret', () => {
    const vars = varsOf(read('wrangler.toml'))
    expect(vars.length).toBeGreaterThan(5)
    for (const name of [...vars, 'EDGE_SECRET_KEY']) expect(deploy, name).toContain(`\`${name}\``)
  })

  it('names only settings that exist in wrangler.toml or workers/env.d.ts', () => {
    const env = read('workers/env.d.ts') + read('workers/secrets.d.ts')
    const named = new Set([...deploy.matchAll(/`((?:VIVIM|FEDERATION|TOPIC|EDGE)_[A-Z0-9_]+)`/g)].map((m) => m[1]))
    for (const name of named) expect(env, `${name} is not in workers/env.d.ts`).toMatch(new RegExp(`\\b${name}\\b`))
  })

  it('names every Durable Object class of wrangler.toml’s migrations', () => {
    const classes = [...read('wrangler.toml').matchAll(/new_sqlite_classes = \[([^\]]*)\]/g)].flatMap((m) =>
      [...(m[1] as string).matchAll(/"(\w+)"/g)].map((c) => c[1] as string),
    )
    for (const name of classes) expect(deploy, name).toContain(name)
  })

  it('runs only npm scripts that exist', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
    const used = [...deploy.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1] as string)
    expect(used.length).toBeGreaterThan(0)
    for (const name of used) expect(Object.hasOwn(scripts, name), `npm run ${name}`).toBe(true)
    expect(scripts.build).toContain('wrangler deploy --dry-run --outdir dist')
  })
})
