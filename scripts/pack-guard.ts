/**
 * The `prepack` of every workspace package: their manifests in the
 * repository point at the TypeScript sources, so a plain `npm pack -w …`
 * would ship a package that does not install. `npm run pack` builds and packs
 * them with the manifests they are published with.
 */
console.error('Pack the packages with `npm run pack` (it builds them and writes the published manifests).')
process.exit(1)
