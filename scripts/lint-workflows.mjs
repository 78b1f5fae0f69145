// Validates the project's workflows, the examples and action.yml against the schemas GitHub's
// runner holds them to (action-validator), so that `npm run lint` fails on a file GitHub would refuse.
// The library, not its CLI: the CLI takes any file whose name ends in action.yml (test-action.yml)
// for action metadata.
import { validateAction, validateWorkflow } from '@action-validator/core'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { parseDocument } from 'yaml'

const WORKFLOW_DIRS = ['.github/workflows', 'examples']
const ACTION = 'action.yml'
// action-validator 0.6.0's schema lists node12, node16 and node20 only; GitHub runs node24 actions too.
// Such an action.yml is checked as node20, which it otherwise matches in every field.
const RUNTIMES_AFTER_SCHEMA = new Set(['node24'])

/** Each error on one line, the alternatives of a oneOf indented under it. */
function describe(errors, indent = '  ') {
  return errors.flatMap(error => {
    const where = error.location ? `line ${error.location.line}:${error.location.column}` : error.path || '/'
    const line = `${indent}${where}: ${error.title}${error.detail ? ` (${error.detail})` : ''}`
    return [line, ...(error.states ?? []).flatMap(state => describe(state.errors, `${indent}  `))]
  })
}

function actionAsSchemaKnowsIt(text) {
  const doc = parseDocument(text)
  if (RUNTIMES_AFTER_SCHEMA.has(doc.getIn(['runs', 'using']))) doc.setIn(['runs', 'using'], 'node20')
  return String(doc)
}

const checks = [{ file: ACTION, validate: text => validateAction(actionAsSchemaKnowsIt(text)) }]
for (const dir of WORKFLOW_DIRS) {
  const names = (await readdir(dir)).filter(name => /\.ya?ml$/.test(name)).sort()
  checks.push(...names.map(name => ({ file: join(dir, name), validate: validateWorkflow })))
}

let failed = 0
for (const { file, validate } of checks) {
  const { errors } = validate(await readFile(file, 'utf8'))
  if (errors.length === 0) continue
  failed++
  console.error(`${file}: not a valid ${validate === validateWorkflow ? 'workflow' : 'action'}`)
  console.error(describe(errors).join('\n'))
}
if (failed > 0) {
  console.error(`lint-workflows: ${failed} of ${checks.length} files invalid`)
  process.exit(1)
}
console.log(`lint-workflows: ${checks.length} files valid (${ACTION}, ${WORKFLOW_DIRS.join('/, ')}/)`)
