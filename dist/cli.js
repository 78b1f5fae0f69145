#!/usr/bin/env node
import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import {
  ACTION_VERSION,
  Input,
  InputError,
  MODES,
  OUTPUT_DIR,
  VERBOSE_LEVEL,
  WORKSPACES,
  cancelOnSignal,
  chooseCache,
  errorMessage,
  exitAfterCleanup,
  forInput,
  loadConfig,
  newRunId,
  readKubeTree,
  removeKeptObjects,
  removeOutputDir,
  runPipeline,
  summaryText,
  treeHash
} from "./chunks/chunk-FZOHPI5B.js";

// src/cli.ts
import { realpath, rm as rm2, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname as dirname2, join as join2, relative, resolve as resolve2 } from "node:path";
import { parseArgs } from "node:util";

// src/artifacts/local.ts
import { copyFile, cp, mkdir, readdir, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
var LocalArtifactStore = class {
  description;
  dir;
  constructor(dir) {
    this.dir = resolve(dir);
    this.description = `the directory ${this.dir}`;
  }
  /** `<dir>/<name>/<files>`, like a downloaded bundle artifact. */
  async uploadBundle(name, rootDir, files) {
    const target = join(this.dir, name);
    await rm(target, { recursive: true, force: true });
    for (const file of files) {
      await mkdir(dirname(join(target, file)), { recursive: true });
      await copyFile(join(rootDir, file), join(target, file));
    }
    return { name, location: target };
  }
  async list(prefix) {
    const names = await readdir(this.dir).catch(() => []);
    return names.filter((name) => name.startsWith(prefix)).sort();
  }
  async download(name, dir) {
    await cp(join(this.dir, name), dir, { recursive: true });
  }
  /** `<dir>/<name>`: the file itself. */
  async uploadFile(name, path) {
    await mkdir(this.dir, { recursive: true });
    const target = join(this.dir, name);
    await copyFile(path, target);
    return { name, location: target };
  }
};

// src/logger.ts
var ConsoleLogger = class {
  constructor(verbose) {
    this.verbose = verbose;
  }
  verbose;
  info(message) {
    process.stdout.write(`${message}
`);
  }
  warning(message) {
    process.stderr.write(`warning: ${message}
`);
  }
  debug(message) {
    if (this.verbose) process.stderr.write(`debug: ${message}
`);
  }
  /** The terminal shows the compiler's own line already. */
  annotate() {
  }
  /** Nothing secret is printed on the CLI; there is no log service to mask it in. */
  mask() {
  }
  async group(title, fn) {
    process.stdout.write(`==> ${title}
`);
    return fn();
  }
};

// src/cli.ts
var USAGE = `usage: kube-release [build] [options]
       kube-release clean [--source DIR] [--output-dir DIR] [--images]
       kube-release clean --all

Builds Kubernetes release tarballs in containers, like make release / make quick-release.

options (the action's inputs):
  --source DIR             Kubernetes tree (default: the current directory)
  --mode MODE              ${MODES.join(" | ")} (default: release)
  --platforms LIST         os/arch list (comma-separated), all, or host (default: by mode)
  --targets LIST           groups (server, node, client, test), package paths or binary names
  --run-tests BOOL         run make test and make test-integration (default: true for release)
  --workspace STRATEGY     ${WORKSPACES.join(" | ")} (default: volume)
  --kube-cross-image REF   kube-cross repository[:tag] (default: from the tree)
  --output-dir DIR         where release-tars/ and release-images/ go (default: <source>/_output)
  --server-images BOOL     image archives in the linux server tarballs (default: true)
  --go-runner-image REF    base image of kube-apiserver, -controller-manager, -scheduler, kubectl
  --kube-proxy-base-image REF  base image of kube-proxy
  --conformance-image BOOL     conformance-<arch>.tar in release-images/ (default: true for release)
  --windows-kube-proxy-image BOOL  kube-proxy.exe.tar for windows/amd64 in release-images/amd64
  --verbose [LEVEL]        KUBE_VERBOSE level, or more detail when given alone
  --artifacts-dir DIR      copy the release there, laid out as the action's artifacts
  --artifact-layout L      bundle (DIR/<name>/\u2026) | per-file (DIR/<file>) (default: bundle)
  --artifact-name NAME     the bundle's name (default: kubernetes-release-<version>-<platforms>-<id>)
  --cache BOOL             keep the kube-cross image and the Go build cache between runs (default: true)
  --cache-dir DIR          where (default: $XDG_CACHE_HOME/kube-release or ~/.cache/kube-release)
  --cache-size-limit SIZE  oldest entries are evicted beyond it (default: 10G)
  --cache-save POLICY      on-success | always | never | default-branch (default: on-success)
  --phase PHASE            all | plan (print a balanced matrix) | build (binaries only, to --artifacts-dir)
                           | package (collect the legs' binaries from --artifacts-dir, package) (default: all)
  --legs N                 legs of the plan phase (default: 3)
  --report-file FILE       also write the run's report (stage times, tarballs, rsync bytes\u2026) there as JSON
  --version                print the version
  -h, --help               this text

clean does what make clean does for the tree: removes the containers and data volumes the engine
keeps for it (also when its directory is gone) and its _output directory (and --output-dir). The
kube-build images stay, as every tree with the same build image shares them:
  --images                 remove the kube-build images too (they are rebuilt when needed)
  --all                    remove everything this action keeps on the engine, for every tree and run
                           (containers, data volumes, kube-build images: what carries its labels)`;
var FLAG_INPUTS = [
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
];
function parse(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...Object.fromEntries(FLAG_INPUTS.map((name) => [name, { type: "string" }])),
      verbose: { type: "string" },
      "artifacts-dir": { type: "string" },
      "report-file": { type: "string" },
      images: { type: "boolean" },
      all: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" }
    }
  });
  if (values.help) return "help";
  if (values.version) return "version";
  const command = positionals[0] ?? "build";
  if (positionals.length > 1 || !["build", "clean"].includes(command)) {
    throw new Error(`unknown command '${positionals.join(" ")}'`);
  }
  if (command !== "clean" && (values.images || values.all))
    throw new Error("--images and --all are for clean");
  if (values.all && (values.images || values.source !== void 0)) {
    throw new Error("clean --all takes no --source or --images: it removes everything");
  }
  const raw = {};
  const strings = values;
  for (const name of FLAG_INPUTS) raw[name] = strings[name];
  raw[Input.verbose] = strings.verbose;
  return {
    command,
    raw,
    artifactsDir: strings["artifacts-dir"],
    reportFile: strings["report-file"],
    clean: { images: values.images === true, all: values.all === true }
  };
}
function normaliseVerbose(argv) {
  return argv.flatMap(
    (arg, i) => arg === "--verbose" && (argv[i + 1] === void 0 || argv[i + 1].startsWith("-")) ? ["--verbose=true"] : [arg]
  );
}
function whereResultsAre(config, report, artifactsDir) {
  switch (config.phase) {
    case "plan":
      return "the matrix is above: one leg per line";
    case "build":
      return `this leg's binaries are in ${artifactsDir}, for the package phase to collect`;
    default:
      return report.releaseDir ? `tarballs are in ${report.releaseDir}` : `image archives are in ${join2(config.outputDir, "release-images")}`;
  }
}
async function treeToClean(source) {
  const path = resolve2(source);
  const present = await stat(path).then(
    () => true,
    () => false
  );
  if (present) return { root: (await forInput(Input.source, () => readKubeTree(path))).root, gone: false };
  let parent = dirname2(path);
  while (!await realpath(parent).then(
    () => true,
    () => false
  ))
    parent = dirname2(parent);
  return { root: join2(await realpath(parent), relative(parent, path)), gone: true };
}
async function clean(raw, flags, log) {
  const count = (n, what) => `${n} ${what}${n === 1 ? "" : "s"}`;
  if (flags.all) {
    const removed2 = await removeKeptObjects({ kind: "all" }, log);
    log.info(
      `removed ${count(removed2.containers, "container")}, ${count(removed2.volumes, "volume")} and ${count(removed2.images, "image")} of this action from the engine`
    );
    return 0;
  }
  const { root, gone } = await treeToClean(raw.source ?? ".");
  const outputDir = resolve2(root, raw[Input.outputDir] || process.env.OUT_DIR || OUTPUT_DIR);
  if (!outputDir.startsWith(`${root}/`)) {
    throw new InputError(`clean removes only directories inside the tree, and ${outputDir} is not`, {
      input: Input.outputDir
    });
  }
  if (gone) log.info(`${root} is gone: removing what the engine keeps for it`);
  const removed = await removeKeptObjects(
    { kind: "tree", treeHash: treeHash(root), images: flags.images },
    log
  );
  log.info(
    `removed ${count(removed.containers, "container")} and ${count(removed.volumes, "data volume")} of ${root}` + (flags.images ? `, and ${count(removed.images, "kube-build image")}` : "")
  );
  if (!flags.images) log.info("kept the kube-build images, which trees share (clean --images removes them)");
  if (gone) return 0;
  for (const dir of /* @__PURE__ */ new Set([join2(root, OUTPUT_DIR), outputDir])) {
    if (await removeOutputDir(dir)) log.info(`removed ${dir}`);
  }
  return 0;
}
async function main() {
  let parsed;
  try {
    parsed = parse(normaliseVerbose(process.argv.slice(2)));
  } catch (err) {
    process.stderr.write(`kube-release: ${err.message}

${USAGE}
`);
    return 2;
  }
  if (parsed === "help" || parsed === "version") {
    process.stdout.write(parsed === "help" ? `${USAGE}
` : `kube-release ${ACTION_VERSION}
`);
    return 0;
  }
  let log = new ConsoleLogger(false);
  try {
    if (parsed.command === "clean") return await clean(parsed.raw, parsed.clean, log);
    const config = await loadConfig(parsed.raw, process.env, process.cwd());
    log = new ConsoleLogger(config.verbosity >= VERBOSE_LEVEL);
    log.info(`kube-release ${ACTION_VERSION}`);
    const runId = newRunId(process.env);
    const signal = cancelOnSignal(runId, log);
    const reporter = {
      setOutput: () => void 0,
      summary: async (report) => {
        log.info(`
${summaryText(report)}`);
        if (parsed.reportFile) await writeFile(parsed.reportFile, `${JSON.stringify(report, null, 2)}
`);
      }
    };
    const artifacts = parsed.artifactsDir ? new LocalArtifactStore(parsed.artifactsDir) : null;
    const cache = chooseCache(config.cache, process.env, log, false);
    const cacheArchiveDir = join2(cache.archiveDir, runId);
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
      });
      log.info(`
${whereResultsAre(config, report, parsed.artifactsDir)}`);
      return 0;
    } finally {
      await rm2(cacheArchiveDir, { recursive: true, force: true });
      await rmdir(cache.archiveDir).catch(() => void 0);
    }
  } catch (err) {
    process.stderr.write(`kube-release: ${errorMessage(err)}
`);
    return err instanceof InputError ? 2 : 1;
  }
}
await exitAfterCleanup(await main());
