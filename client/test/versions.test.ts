import { ErrorCode, generateIdentity, VivimError } from '@vivim/shared'
import { describe, expect, inject, it } from 'vitest'
import type { VivimDocProvider } from '../src/doc-provider.ts'
import { VivimClient } from '../src/vivim-client.ts'

const edge = inject('edgeUrl')

function synced(provider: VivimDocProvider): Promise<void> {
  return new Promise((resolve, reject) => {
    if (provider.state.value === 'synced') return resolve()
    provider.state.on((s) => s === 'synced' && resolve())
    provider.on('error', reject)
  })
}

/** Waits until `check` holds after the document changes (a hang guard is the test's timeout). */
function changed(provider: VivimDocProvider, check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (check()) return resolve()
    const look = () => {
      if (!check()) return
      provider.doc.off('update', look)
      resolve()
    }
    provider.doc.on('update', look)
  })
}

describe('version history in the SDK', () => {
  it('lists, previews and restores versions; a writer without admin cannot restore', async () => {
    const alice = new VivimClient({ edge, identity: generateIdentity() })
    const bobId = generateIdentity()
    const circleId = crypto.randomUUID()
    const docId = `circle:${circleId}`
    const own = alice.circle(circleId)
    await synced(own)
    const meta = () => own.doc.getMap('meta')
    meta().set('name', 'Book club')

    const history = alice.versions(docId)
    const saved = await history.save('named by Alice')
    expect(saved).toMatchObject({ name: 'named by Alice', reason: 'named', authors: [alice.identity?.did] })
    meta().set('name', 'Renamed')
    const grant = alice.grant({
      resource: `doc:${docId}`,
      actions: ['read', 'write'],
      expiresAt: Date.now() + 3_600_000,
      to: bobId.did,
    })
    const bob = new VivimClient({ edge, identity: bobId, grants: [grant] })
    const joined = bob.circle(circleId)
    await synced(joined)
    await changed(joined, () => joined.doc.getMap('meta').get('name') === 'Renamed')

    expect((await bob.versions(docId).list()).map((v) => v.name)).toEqual(['named by Alice'])
    const preview = await bob.versions(docId).preview(saved.id)
    expect(preview.getMap('meta').get('name')).toBe('Book club')
    const refused = await bob
      .versions(docId)
      .restore(saved.id)
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(VivimError)
    expect((refused as VivimError).code).toBe(ErrorCode.Forbidden)

    await history.restore(saved.id)
    await changed(own, () => meta().get('name') === 'Book club')
    await changed(joined, () => joined.doc.getMap('meta').get('name') === 'Book club')
    const missing = await history.state(999_999).catch((e: unknown) => e)
    expect((missing as VivimError).code).toBe(ErrorCode.NotFound)
    own.destroy()
    joined.destroy()
  })
})
