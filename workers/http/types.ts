/** The Hono environment every sub-app of the edge shares. */
export interface AppEnv {
  Bindings: Env
}
