// The action's own version, from package.json: the first line of every run's log names it, so a log
// says which release of the action made the tarballs.
import pkg from '../package.json' with { type: 'json' }

export const ACTION_VERSION: string = pkg.version
