// Bundles the action entry and the CLI into dist/ as ESM files that need no node_modules.
import { build } from 'esbuild'
import { readFile, rm } from 'node:fs/promises'
import { resolve } from 'node:path'

/**
 * src/version.ts reads the version from this package.json: only that field goes into the bundle, so
 * that dist/ does not change with the scripts or the dev dependencies.
 */
const OWN_PACKAGE_JSON = resolve('package.json')
const versionOnly = {
  name: 'own-package-json-version-only',
  setup(build) {
    build.onLoad({ filter: /package\.json$/ }, async args => {
      if (args.path !== OWN_PACKAGE_JSON) return undefined
      const { version } = JSON.parse(await readFile(args.path, 'utf8'))
      return { contents: JSON.stringify({ version }), loader: 'json' }
    })
  }
}

await rm('dist', { recursive: true, force: true })
await build({
  entryPoints: { index: 'src/index.ts', cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  // Bundled CommonJS dependencies call require() for Node built-ins and read __dirname; only free
  // uses are rewritten, so modules that declare their own keep them.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
  },
  define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
  // ssh2 probes optional native add-ons inside try/catch; leaving them unresolved keeps that fallback.
  external: ['cpu-features', '*.node'],
  plugins: [versionOnly],
  logLevel: 'warning'
})
