// The action's entry for both main and post: the runner runs this file twice.
import { runMain, runPost } from './action.js'
import { isPost, markMainStarted } from './state-helper.js'

if (isPost()) {
  await runPost()
} else {
  markMainStarted()
  await runMain()
}
