'use strict';
// The runner binding (openFlow, TokenPool) of this package, loaded only by the commands
// that run or check rows: status and results work without the native addon.
function binding() {
  return require('../..');
}

// Opens a flow; a flow that cannot be opened (it does not validate, its plugin does not
// load) is a usage error (exit 2) with the runner's reasons.
function open(flowPath, options) {
  try {
    return binding().openFlow(flowPath, options);
  } catch (e) {
    const err = new Error(`${flowPath}: ${e.message}`);
    err.exitCode = 2;
    throw err;
  }
}

module.exports = { binding, open };
