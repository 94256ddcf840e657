/**
 * The relay: Yjs document rooms (`/v1/docs/<docId>`), pubsub topic rooms
 * (`/v1/topics/<topic>`) and WebRTC signaling (`/v1/signaling`), each backed
 * by Durable Objects.
 */
import { Hono } from 'hono'
import type { AppEnv } from '../http/types.ts'

export const relay = new Hono<AppEnv>()
