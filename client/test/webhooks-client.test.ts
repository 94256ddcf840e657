import { ErrorCode, generateIdentity, type VivimError } from '@vivim/shared'
import { describe, expect, inject, it } from 'vitest'
import { VivimClient } from '../src/vivim-client.ts'

const edge = inject('edgeUrl')

describe('webhooks through VivimClient', () => {
  it("an owner manages a document's webhooks with its own credential; a writer without admin may not", async () => {
    const alice = new VivimClient({ edge, identity: generateIdentity() })
    const circleId = crypto.randomUUID()
    const circle = alice.circle(circleId)
    await new Promise<void>((resolve) => circle.state.on((s) => s === 'synced' && resolve()))
    const resource = `doc:circle:${circleId}`
    // A development edge takes a loopback URL; a production one only https on a public address.
    const hook = await alice
      .webhooks(resource)
      .create({ resource, url: 'http://127.0.0.1:9/vivim', event: 'circle.members' })
    expect(hook).toMatchObject({ resource, event: 'circle.members' })
    expect((await alice.webhooks(resource).list(resource)).map((h) => h.id)).toEqual([hook.id])

    const bobId = generateIdentity()
    const grant = alice.grant({
      resource,
      actions: ['read', 'write'],
      expiresAt: Date.now() + 3_600_000,
      to: bobId.did,
    })
    const bob = new VivimClient({ edge, identity: bobId, grants: [grant] })
    const refused = (await bob
      .webhooks(resource)
      .create({ resource, url: 'http://127.0.0.1:9/bob' })
      .catch((e: unknown) => e)) as VivimError
    expect(refused.code).toBe(ErrorCode.Forbidden)

    await alice.webhooks(resource).delete(hook.id)
    expect(await alice.webhooks(resource).list(resource)).toEqual([])
    circle.destroy()
  })
})
