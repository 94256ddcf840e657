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
                // A fixed test identity for the edge (base64url of 32 bytes of 7).
                EDGE_SECRET_KEY: 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc',
              },
            },
          }),
        ],
        // A hang guard, not a speed limit: a loaded machine can take seconds over a room's round trips.
        test: { name: 'workers', include: ['workers/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['shared/**/*.test.ts', 'node-bridge/**/*.test.ts'],
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
    ],
  },
})
