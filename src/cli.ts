#!/usr/bin/env node
// The same pipeline outside GitHub: `kube-release [build] --source DIR …` and `kube-release clean`.
import { realpath, rm, rmdir, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { LocalArtifactStore } from './artifacts/local.js'
import { chooseCache } from './cache/select.js'
import { cancelOnSignal, exitAfterCleanup, removeKeptObjects, removeOutputDir } from './cleanup.js'
import { MODES, WORKSPACES, loadConfig, type Config } from './config.js'
import { InputError, errorMessage } from './errors.js'
import { Input, VERBOSE_LEVEL, forInput, type RawInputs } from './inputs.js'
import { ACTION_VERSION } from './version.js'
import { OUTPUT_DIR, treeHash } from './kube/layout.js'
import { readKubeTree } from './kube/tree.js'
import { ConsoleLogger } from './logger.js'
import { summaryText, type Reporter, type RunReport } from './report/report.js'
import { newRunId, runPipeline } from './run/pipeline.js'

const USAGE = `usage: kube-release [build] [options]
       kube-release clean [--source DIR] [--output-dir DIR] [--images]
       kube-release clean --all

Builds Kubernetes release tarballs in containers, like make release / make quick-release.

options (the action's inputs):
  --source DIR             Kubernetes tree (default: the current directory)
  --mode MODE              ${MODES.join(' | ')} (default: release)
  --platforms LIST         os/arch list (comma-separated), all, or host (default: by mode)
  --targets LIST           groups (server, node, client, test), package paths or binary names
  --run-tests BOOL         run make test and make test-integration (default: true for release)
  --workspace STRATEGY     ${WORKSPACES.join(' | ')} (default: volume)
  --kube-cross-image REF   kube-cross repository[:tag] (default: from the tree)
  --output-dir DIR         where release-tars/ and release-images/ go (default: <source>/_output)
  --server-images BOOL     image archives in the linux server tarballs (default: true)
  --go-runner-image REF    base image of kube-apiserver, -controller-manager, -scheduler, kubectl
  --kube-proxy-base-image REF  base image of kube-proxy
  --conformance-image BOOL     conformance-<arch>.tar in release-images/ (default: true for release)
  --windows-kube-proxy-image BOOL  kube-proxy.exe.tar for windows/amd64 in release-images/amd64
  --verbose [LEVEL]        KUBE_VERBOSE level, or more detail when given alone
  --artifacts-dir DIR      copy the release there, laid out as the action's artifacts
  --artifact-layout L      bundle (DIR/<name>/…) | per-file (DIR/<file>) (default: bundle)
  --artifact-name NAME     the bundle's name (default: kubernetes-release-<version>-<platforms>-<id>)
  --cache BOOL             keep the kube-cross image and the Go build cache between runs (default: true)
  --cache-dir DIR          where (default: $XDG_CACHE_HOME/kube-release or ~/.cache/kube-release)
  --cache-size-limit SIZE  oldest entries are evicted beyond it (default: 10G)
  --cache-save POLICY      on-success | always | never | default-branch (default: on-success)
  --phase PHASE            all | plan (print a balanced matrix) | build (binaries only, to --artifacts-dir)
                           | package (collect the legs' binaries from --artifacts-dir, package) (default: all)
  --legs N                 legs of the plan phase (default: 3)
  --report-file FILE       also write the run's report (stage times, tarballs, rsync bytes…) there as JSON
  --version                print the version
  -h, --help               this text

clean does what make clean does for the tree: removes the containers and data volumes the engine
keeps for it (also when its directory is gone) and its _output directory (and --output-dir). The
kube-build images stay, as every tree with the same build image shares them:
  --images                 remove the kube-build images too (they are rebuilt when needed)
  --all                    remove everything this action keeps on the engine, for every tree and run
                           (containers, data volumes, kube-build images: what carries its labels)`

const FLAG_INPUTS = [
  Input.source,
  Input.mode,
  Input.platforms,
  Input.targets,
  Input.runTests,
  Input.workspace,
  Input.kubeCrossImage,
  Input.outputDir,
  Input.serverImages,
  Input.goRunnerImage,
  Input.kubeProxyBaseImage,
  Input.conformanceImage,
  Input.windowsKubeProxyImage,
  Input.artifactLayout,
  Input.artifactName,
  Input.cache,
  Input.cacheSave,
  Input.cacheDir,
  Input.cacheSizeLimit,
  Input.phase,
  Input.legs
] as const

interface CleanFlags {
  readonly images: boolean
  readonly all: boolean
}

/** What the command line asks for; `help` and `version` print and exit. */
function parse(argv: string[]):
  | {
      command: string
      raw: RawInputs
      artifactsDir?: string
      reportFile?: string
      clean: CleanFlags
    }
  | 'help'
  | 'version' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...Object.fromEntries(FLAG_INPUTS.map(name => [name, { type: 'string' as const }])),
      verbose: { type: 'string' },
      'artifacts-dir': { type: 'string' },
      'report-file': { type: 'string' },
      images: { type: 'boolean' },
      all: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' }
    }
  })
  if (values.help) return 'help'
  if (values.version) return 'version'
  const command = positionals[0] ?? 'build'
  if (positionals.length > 1 || !['build', 'clean'].includes(command)) {
    throw new Error(`unknown command '${positionals.join(' ')}'`)
  }
  if (command !== 'clean' && (values.images || values.all))
    throw new Error('--images and --all are for clean')
  if (values.all && (values.images || (values as Record<string, unknown>).source !== undefined)) {
    throw new Error('clean --all takes no --source or --images: it removes everything')
  }
  const raw: RawInputs = {}
  const strings = values as Record<string, string | undefined>
  for (const name of FLAG_INPUTS) raw[name] = strings[name]
  raw[Input.verbose] = strings.verbose
  return {
    command,
    raw,
    artifactsDir: strings['artifacts-dir'],
    reportFile: strings['report-file'],
    clean: { images: values.images === true, all: values.all === true }
  }
}

/** `--verbose` alone means true; parseArgs wants a value, so one is supplied. */
function normaliseVerbose(argv: string[]): string[] {
  return argv.flatMap((arg, i) =>
    arg === '--verbose' && (argv[i + 1] === undefined || argv[i + 1].startsWith('-'))
      ? ['--verbose=true']
      : [arg]
  )
}

/** The last line of a run: where what it made went, by phase. */
function whereResultsAre(config: Config, report: RunReport, artifactsDir: string | undefined): string {
  switch (config.phase) {
    case 'plan':
      return 'the matrix is above: one leg per line'
    case 'build':
      return `this leg's binaries are in ${artifactsDir}, for the package phase to collect`
    default:
      return report.releaseDir
        ? `tarballs are in ${report.releaseDir}`
        : `image archives are in ${join(config.outputDir, 'release-images')}`
  }
}

/**
 * The tree to clean: a Kubernetes tree, or one whose directory is gone, named by the physical path
 * it had (its nearest existing parent with symlinks resolved), which its objects' labels hash.
 */
async function treeToClean(source: string): Promise<{ root: string; gone: boolean }> {
  const path = resolve(source)
  const present = await stat(path).then(
    () => true,
    () => false
  )
  if (present) return { root: (await forInput(Input.source, () => readKubeTree(path))).root, gone: false }
  let parent = dirname(path)
  while (
    !(await realpath(parent).then(
      () => true,
      () => false
    ))
  )
    parent = dirname(parent)
  return { root: join(await realpath(parent), relative(parent, path)), gone: true }
}

/** `kube-release clean`: what make clean does for a tree, or everything the action keeps on the engine. */
async function clean(raw: RawInputs, flags: CleanFlags, log: ConsoleLogger): Promise<number> {
  const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`
  if (flags.all) {
    const removed = await removeKeptObjects({ kind: 'all' }, log)
    log.info(
      `removed ${count(removed.containers, 'container')}, ${count(removed.volumes, 'volume')} and ` +
        `${count(removed.images, 'image')} of this action from the engine`
    )
    return 0
  }
  const { root, gone } = await treeToClean(raw.source ?? '.')
  // kube::build::clean removes ${OUT_DIR:-_output}; binaries and caches are always in _output here.
  const outputDir = resolve(root, raw[Input.outputDir] || process.env.OUT_DIR || OUTPUT_DIR)
  if (!outputDir.startsWith(`${root}/`)) {
    throw new InputError(`clean removes only directories inside the tree, and ${outputDir} is not`, {
      input: Input.outputDir
    })
  }
  if (gone) log.info(`${root} is gone: removing what the engine keeps for it`)
  const removed = await removeKeptObjects(
    { kind: 'tree', treeHash: treeHash(root), images: flags.images },
    log
  )
  log.info(
    `removed ${count(removed.containers, 'container')} and ${count(removed.volumes, 'data volume')} of ${root}` +
      (flags.images ? `, and ${count(removed.images, 'kube-build image')}` : '')
  )
  if (!flags.images) log.info('kept the kube-build images, which trees share (clean --images removes them)')
  if (gone) return 0
  for (const dir of new Set([join(root, OUTPUT_DIR), outputDir])) {
    if (await removeOutputDir(dir)) log.info(`removed ${dir}`)
  }
  return 0
}

async function main(): Promise<number> {
  let parsed
  try {
    parsed = parse(normaliseVerbose(process.argv.slice(2)))
  } catch (err) {
    process.stderr.write(`kube-release: ${(err as Error).message}\n\n${USAGE}\n`)
    return 2
  }
  if (parsed === 'help' || parsed === 'version') {
    process.stdout.write(parsed === 'help' ? `${USAGE}\n` : `kube-release ${ACTION_VERSION}\n`)
    return 0
  }
  let log = new ConsoleLogger(false)
  try {
    if (parsed.command === 'clean') return await clean(parsed.raw, parsed.clean, log)
    const config = await loadConfig(parsed.raw, process.env, process.cwd())
    log = new ConsoleLogger(config.verbosity >= VERBOSE_LEVEL)
    log.info(`kube-release ${ACTION_VERSION}`)
    const runId = newRunId(process.env)
    const signal = cancelOnSignal(runId, log)
    const reporter: Reporter = {
      setOutput: () => undefined,
      summary: async report => {
        log.info(`\n${summaryText(report)}`)
        if (parsed.reportFile) await writeFile(parsed.reportFile, `${JSON.stringify(report, null, 2)}\n`)
      }
    }
    const artifacts = parsed.artifactsDir ? new LocalArtifactStore(parsed.artifactsDir) : null
    const cache = chooseCache(config.cache, process.env, log, false)
    // Per run: CLI runs may overlap, and a local cache does not care about the path.
    const cacheArchiveDir = join(cache.archiveDir, runId)
    try {
      const report = await runPipeline(config, {
        log,
        reporter,
        env: process.env,
        runId,
        signal,
        artifacts,
        cache: cache.store,
        cacheArchiveDir
      })
      log.info(`\n${whereResultsAre(config, report, parsed.artifactsDir)}`)
      return 0
    } finally {
      await rm(cacheArchiveDir, { recursive: true, force: true })
      // The shared parent goes too once no other run uses it.
      await rmdir(cache.archiveDir).catch(() => undefined)
    }
  } catch (err) {
    process.stderr.write(`kube-release: ${errorMessage(err)}\n`)
    return err instanceof InputError ? 2 : 1
  }
}

await exitAfterCleanup(await main())
