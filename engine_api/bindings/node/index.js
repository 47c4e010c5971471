'use strict';
// @wfa/runner: run flow files from Node, one row at a time, on the host library's flow
// runner (libwfa_runner.so, wfa/runner.h) through the N-API addon wfa_runner.node.
// README.md states the API and the lifetime rules; the addon (src/addon.cpp) keeps them.
const fs = require('fs');
const path = require('path');

// Where the addon is: WFA_RUNNER_ADDON (a path), beside this file (an installed package),
// or in the repository's build tree (build/<preset>/engine_api/bindings/node).
function addonCandidates() {
  const out = [];
  if (process.env.WFA_RUNNER_ADDON) out.push(path.resolve(process.env.WFA_RUNNER_ADDON));
  out.push(path.join(__dirname, 'wfa_runner.node'));
  const root = path.resolve(__dirname, '..', '..', '..');
  for (const preset of ['release', 'debug']) {
    out.push(path.join(root, 'build', preset, 'engine_api', 'bindings', 'node', 'wfa_runner.node'));
  }
  return out;
}

function loadAddon() {
  const candidates = addonCandidates();
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) {
    const e = new Error(`@wfa/runner: the native addon wfa_runner.node was not found; looked at: ${candidates.join(', ')} ` +
      '(build it: cmake --build build/release --target wfa_node, or set WFA_RUNNER_ADDON)');
    e.code = 'ERR_WFA_ADDON_NOT_FOUND';
    throw e;
  }
  return require(file);
}

const native = loadAddon();

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];  // WFA_LOG_* 0..4
const UINT32_MAX = 0xffffffff;

function typeError(message) {
  const e = new TypeError(message);
  e.code = 'ERR_INVALID_ARG_TYPE';
  return e;
}
function rangeError(message) {
  const e = new RangeError(message);
  e.code = 'ERR_OUT_OF_RANGE';
  return e;
}
function closedError() {
  const e = new Error('the flow is closed');
  e.code = 'flow_closed';
  return e;
}
function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
// A row's inputs as the runner takes them: an object (serialised here) or a JSON text
// (passed as is, e.g. a line of an inputs file; one that does not parse is a failed row).
function inputsJson(inputs) {
  if (typeof inputs === 'string') return inputs;
  if (!isPlainObject(inputs)) throw typeError('inputs: expected an object (or a JSON text)');
  return JSON.stringify(inputs);
}

// The pools' native halves, out of reach of users (openFlow hands them to the addon).
const nativePools = new WeakMap();

// A token pool, the host's rate budget: every plugin request of the flows opened with it
// (wfa_runner_options.acquire, called on plugin threads) takes `cost` tokens when the pool
// holds them; otherwise the request waits `waitMs` and asks again, and the refusal is
// counted as demand. Someone (a queue's worker) refills it from a shared budget.
class TokenPool {
  constructor(options = {}) {
    if (!isPlainObject(options)) throw typeError('TokenPool options: expected an object');
    const waitMs = options.waitMs === undefined ? 25 : options.waitMs;
    if (!Number.isInteger(waitMs) || waitMs < 1 || waitMs > 60000) {
      throw rangeError('TokenPool options.waitMs: expected an integer from 1 to 60000');
    }
    nativePools.set(this, new native.NativeTokenPool(waitMs));
  }
  // Adds n tokens (an integer >= 0); the pool holds at most 2^53 - 1.
  add(n) {
    if (!Number.isSafeInteger(n) || n < 0) throw rangeError('TokenPool.add(n): expected an integer >= 0');
    nativePools.get(this).add(n);
  }
  // The tokens asked for and refused since the last call (each refused ask counts: a
  // request refused three times counts its cost three times), and resets the count.
  takeDemand() {
    return nativePools.get(this).takeDemand();
  }
  // Empties the pool; returns what it held (to give unused tokens back).
  drain() {
    return nativePools.get(this).drain();
  }
  // The tokens in the pool now.
  get available() {
    return nativePools.get(this).available;
  }
}

// What flowrun prints for a row that never started (engine_api/src/runner.cpp does the same
// for the rows an interrupted run never reached).
function neverStarted(row) {
  return {
    status: 'cancelled',
    line: JSON.stringify({ row, status: 'cancelled', steps: {} }),
    code: 'cancelled',
    retryable: false,
    retryAfterS: 0,
  };
}

// One abort listener per signal, whatever the number of rows waiting on it (a worker's
// shutdown signal shared by every row would pass Node's listener-leak warning at 11): the
// rows' cancel functions in a set; the listener is removed when the last of them ends.
const signalRows = new WeakMap();  // AbortSignal -> { cancels: Set<function>, listener }
function watchSignal(signal, cancel) {
  let w = signalRows.get(signal);
  if (!w) {
    const cancels = new Set();
    w = { cancels, listener: () => {
      signalRows.delete(signal);
      for (const c of cancels) c();
    } };
    signalRows.set(signal, w);
    signal.addEventListener('abort', w.listener, { once: true });
  }
  w.cancels.add(cancel);
  return () => {
    w.cancels.delete(cancel);
    if (w.cancels.size === 0 && signalRows.get(signal) === w) {
      signalRows.delete(signal);
      signal.removeEventListener('abort', w.listener);
    }
  };
}

// The flows not yet closed, weakly (a flow nobody holds is still collected): when the
// process exits, by process.exit() too, each is closed synchronously (the addon's
// closeAtExit), so that no plugin thread outlives the process's static destructors.
const openFlows = new Set();
const forgetFlow = new FinalizationRegistry((ref) => openFlows.delete(ref));
process.on('exit', () => {
  for (const ref of openFlows) ref.deref()?.closeAtExit();
  native.joinClosers();  // the collected flows' closes still running on their threads
});

class Flow {
  #native;
  #ref;
  #nextRow = 0;
  #closing = null;

  constructor(nativeFlow) {
    this.#native = nativeFlow;
    this.#ref = new WeakRef(nativeFlow);
    openFlows.add(this.#ref);
    forgetFlow.register(nativeFlow, this.#ref);
  }

  // Runs one row. Resolves with its result, also when the row failed or was cancelled;
  // rejects only for a programming error (inputs not an object, a bad option, a closed flow).
  run(inputs, options = {}) {
    try {
      if (this.#closing) throw closedError();
      if (!isPlainObject(options)) throw typeError('run options: expected an object');
      const json = inputsJson(inputs);
      const { signal } = options;
      if (signal !== undefined && !(signal instanceof AbortSignal)) throw typeError('run options.signal: expected an AbortSignal');
      if (options.row !== undefined && (!Number.isSafeInteger(options.row) || options.row < 0)) {
        throw rangeError('run options.row: expected an integer >= 0');
      }
      const row = options.row === undefined ? this.#nextRow++ : options.row;  // a refused call takes no number
      if (signal?.aborted) return Promise.resolve(neverStarted(row));
      return new Promise((resolve) => {
        // The callback comes through the event loop, never within run(): unwatch is set by then.
        let unwatch = null;
        const handle = this.#native.run(json, row, (result) => {
          unwatch?.();
          resolve(result);
        });
        if (signal) {
          unwatch = watchSignal(signal, () => {
            if (!this.#closing) this.#native.cancel(handle);
          });
        }
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // null when the runner would take these inputs, else the reasons it refuses them.
  check(inputs) {
    if (this.#closing) throw closedError();
    return this.#native.check(inputsJson(inputs));
  }

  // Cancels the rows in flight and closes the flow on a thread of its own; resolves once
  // every row's promise has settled and the plugin instances are destroyed. Idempotent.
  close() {
    if (!this.#closing) {
      this.#closing = this.#native.close().then(() => {
        openFlows.delete(this.#ref);
      });
    }
    return this.#closing;
  }

  get closed() {
    return this.#closing !== null;
  }
}

// Opens a flow file (parsed, validated, its plugins loaded and instances created). Throws
// an Error whose .code names the failure ('invalid_input', 'incompatible', or the plugin's
// code) with the runner's message.
function openFlow(file, options = {}) {
  if (typeof file !== 'string' || file === '') throw typeError('openFlow(path): expected a file path');
  if (!isPlainObject(options)) throw typeError('openFlow options: expected an object');
  const { budget, logLevel, maxRetryWaitS, noStepOutputs, onLog } = options;
  const opts = {};
  if (budget !== undefined && budget !== null) {
    if (!nativePools.has(budget)) throw typeError('openFlow options.budget: expected a TokenPool');
    opts.pool = nativePools.get(budget);
  }
  if (logLevel !== undefined) {
    const i = LOG_LEVELS.indexOf(logLevel);
    if (i < 0) throw rangeError(`openFlow options.logLevel: expected one of ${LOG_LEVELS.join(', ')}`);
    opts.logThreshold = i + 1;  // offset by one: 0 is the runner's default (warn)
  }
  if (maxRetryWaitS !== undefined) {
    if (!Number.isInteger(maxRetryWaitS) || maxRetryWaitS < 0 || maxRetryWaitS > UINT32_MAX) {
      throw rangeError('openFlow options.maxRetryWaitS: expected an integer from 0 to 4294967295');
    }
    // 0 means "never wait" as flowrun's --max-retry-wait 0 does (the C API's 0 is its default).
    opts.maxRetryWaitS = maxRetryWaitS === 0 ? UINT32_MAX : maxRetryWaitS;
  }
  if (noStepOutputs !== undefined) {
    if (typeof noStepOutputs !== 'boolean') throw typeError('openFlow options.noStepOutputs: expected a boolean');
    opts.noStepOutputs = noStepOutputs ? 1 : 0;
  }
  if (onLog !== undefined) {
    if (typeof onLog !== 'function') throw typeError('openFlow options.onLog: expected a function');
    opts.onLog = (level, line) => onLog(LOG_LEVELS[level] ?? 'error', line);
  }
  return new Flow(new native.NativeFlow(path.resolve(file), opts));
}

module.exports = { openFlow, TokenPool, Flow, LOG_LEVELS };
