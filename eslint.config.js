import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// Import directions inside src/, held by lint: a wrong-way import fails `npm run lint`.
// Lower layers never import upper ones; dockerode is used inside src/docker only; no stage imports another.
const DOCKERODE = { name: 'dockerode', message: 'Engine API calls belong in src/docker/.' }

/** A folder's rule: the sibling folders (and top-level modules) it must not import from. */
function layer(files, forbidden, extra = []) {
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [DOCKERODE],
          patterns: [
            ...forbidden.map(target => ({
              group: [`../${target}`, `../${target}/*`, `../${target}.js`],
              message: `${files[0].replace('/**/*.ts', '')} must not import ${target}: see the layering in eslint.config.js.`
            })),
            ...extra
          ]
        }
      ]
    }
  }
}

const TOP_LEVEL = ['action', 'cli', 'cleanup', 'config', 'inputs', 'index', 'state-helper']
const ENTRY_POINTS = ['action', 'cli', 'cleanup', 'index', 'state-helper']

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
    }
  },
  // Everything in src/ but src/docker: no dockerode.
  {
    files: ['src/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [DOCKERODE] }] }
  },
  // The config and its inputs are read by every layer: they take nothing from the engine, cache or run code.
  {
    files: ['src/config.ts', 'src/inputs.ts', 'src/errors.ts', 'src/logger.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [DOCKERODE],
          patterns: [
            {
              group: ['./docker/*', './cache/*', './artifacts/*', './report/*', './stages/*', './run/*'],
              message:
                'config, inputs, errors and logger sit below every folder of src/: see eslint.config.js.'
            }
          ]
        }
      ]
    }
  },
  layer(
    ['src/archive/**/*.ts'],
    ['kube', 'docker', 'cache', 'artifacts', 'report', 'stages', 'run', ...TOP_LEVEL]
  ),
  layer(
    ['src/artifacts/**/*.ts'],
    ['archive', 'kube', 'docker', 'cache', 'report', 'stages', 'run', ...TOP_LEVEL]
  ),
  layer(['src/kube/**/*.ts'], ['docker', 'cache', 'artifacts', 'report', 'stages', 'run', ...TOP_LEVEL]),
  {
    ...layer(['src/docker/**/*.ts'], ['kube', 'cache', 'artifacts', 'report', 'stages', 'run', ...TOP_LEVEL]),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: ['kube', 'cache', 'artifacts', 'report', 'stages', 'run', ...TOP_LEVEL].map(target => ({
            group: [
              `../${target}`,
              `../${target}/*`,
              `../${target}.js`,
              `../../${target}/*`,
              `../../${target}.js`
            ],
            message: `src/docker must not import ${target}: see the layering in eslint.config.js.`
          }))
        }
      ]
    }
  },
  layer(['src/cache/**/*.ts'], ['artifacts', 'report', 'stages', 'run', ...ENTRY_POINTS]),
  layer(['src/report/**/*.ts'], ['docker', 'cache', 'stages', 'run', ...TOP_LEVEL]),
  layer(
    ['src/stages/**/*.ts'],
    [...ENTRY_POINTS],
    [
      {
        group: ['./*'],
        message: 'A stage must not import another: shared parts go in src/run/ or a lower layer.'
      },
      {
        group: ['../run/pipeline.js', '../run/phases.js'],
        message: 'Stages do not know the runner or the phases.'
      }
    ]
  ),
  layer(['src/run/**/*.ts'], [...ENTRY_POINTS])
)
