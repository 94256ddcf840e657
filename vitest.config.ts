import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

// Local runs never reach Cloudflare: no Request.cf download, no telemetry.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false'
process.env.WRANGLER_SEND_METRICS ??= 'false'

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                VIVIM_ENV: 'development',
                TOPIC_HISTORY_MESSAGES: '50',
                // Topics spread past 3 readers (`workers/relay/topic-fanouts.ts`), so a few subscribers reach fan-out objects.
                TOPIC_READERS_PER_OBJECT: '3',
                // Every edge test runs through the census's counting stubs (`workers/census.ts`).
                VIVIM_CENSUS: 'on',
                // A fixed test identity for the edge (base64url of 32 bytes of 7).
                EDGE_SECRET_KEY: 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc',
              },
            },
          }),
        ],
        // A hang guard, not a speed limit: a loaded machine can take seconds over a room's round trips.
        test: {
          name: 'workers',
          include: ['workers/**/*.test.ts'],
          exclude: ['workers/federation/test/**', 'workers/webhooks/test/**'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['shared/**/*.test.ts'],
        },
      },
      {
        // Real libp2p nodes on loopback, and edges under wrangler dev that the tests start themselves.
        test: { name: 'bridge', environment: 'node', include: ['node-bridge/test/**/*.test.ts'], testTimeout: 60_000 },
      },
      {
        // Two edge instances under wrangler dev, each with its own storage and keys, federating over loopback.
        test: {
          name: 'federation',
          environment: 'node',
          include: ['workers/federation/test/**/*.test.ts'],
          testTimeout: 90_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Webhooks end to end: an edge under wrangler dev delivering to a receiver on loopback written from the docs.
        test: {
          name: 'webhooks',
          environment: 'node',
          include: ['workers/webhooks/test/**/*.test.ts'],
          testTimeout: 90_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Faults across parts: edges killed mid-storm and started again on their storage.
        test: {
          name: 'faults',
          environment: 'node',
          include: ['faults/test/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'client',
          environment: 'node',
          include: ['client/test/**/*.test.ts'],
          // The SDK is tested against the real edge, started once by wrangler dev.
          globalSetup: ['client/test/edge-setup.ts'],
          testTimeout: 30_000,
        },
      },
      {
        // @vivim/react from its sources in Chromium, against its own edge under wrangler dev.
        test: {
          name: 'react',
          environment: 'node',
          include: ['react/test/**/*.test.ts'],
          globalSetup: ['react/test/edge-setup.ts'],
          testTimeout: 60_000,
        },
      },
      {
        // The packed packages installed outside the repository: a Vite + React app and a Node script, against an edge.
        test: {
          name: 'consumer',
          environment: 'node',
          include: ['consumer/**/*.test.ts'],
          globalSetup: ['consumer/setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
})
