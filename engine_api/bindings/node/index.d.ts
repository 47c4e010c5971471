// Types of @wfa/runner (index.js). README.md states the lifetime rules.

/** Log levels of the runner's and the plugins' diagnostic lines, lowest first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export declare const LOG_LEVELS: readonly LogLevel[];

/** The WFA_* code of the step that ended a row ('ok' for a row that succeeded). */
export type RowCode =
  | 'ok'
  | 'invalid_input'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout'
  | 'cancelled'
  | 'internal'
  | 'incompatible'
  | `code_${number}`;

/** A row's result. */
export interface RowResult {
  status: 'ok' | 'failed' | 'cancelled';
  /** The JSON result line flowrun prints for this row (secrets redacted, no newline). */
  line: string;
  code: RowCode;
  /** failed: the same row may succeed later unchanged. */
  retryable: boolean;
  /** failed with 'rate_limited': the server's wait in seconds, after the runner's own retries; else 0. */
  retryAfterS: number;
}

export interface TokenPoolOptions {
  /** Milliseconds a refused request waits before asking again (1..60000, default 25). */
  waitMs?: number;
}

/**
 * A native, thread-safe token counter: the rate budget of the flows opened with it. Each
 * request a plugin meters takes its cost when the pool holds it; otherwise it waits and asks
 * again, and the refusal counts as demand.
 */
export declare class TokenPool {
  constructor(options?: TokenPoolOptions);
  /** Adds n tokens (an integer >= 0; the pool holds at most 2^53 - 1). */
  add(n: number): void;
  /** Tokens asked for and refused since the last call (every refused ask counts); resets it. */
  takeDemand(): number;
  /** Empties the pool and returns what it held. */
  drain(): number;
  /** Tokens in the pool now. */
  readonly available: number;
}

export interface OpenFlowOptions {
  /** The rate budget handed to every plugin instance (wfa_host.acquire); none by default. */
  budget?: TokenPool | null;
  /** The lowest level of plugin log lines passed on (default 'warn'). */
  logLevel?: LogLevel;
  /**
   * A rate-limited row is retried after the server's wait while its waits add up to at most
   * this many seconds (default 300). 0 or 0xffffffff: never wait (the row fails with
   * retryAfterS set, for a queue that pauses itself).
   */
  maxRetryWaitS?: number;
  /** Leave the steps' outputs out of the result lines (flowrun --no-step-outputs). */
  noStepOutputs?: boolean;
  /** Diagnostic lines (redacted), on the JS thread. Without it they go to stderr. */
  onLog?: (level: LogLevel, line: string) => void;
}

export interface RunOptions {
  /** The number the result line carries (default: 0, 1, 2, ... per flow). */
  row?: number;
  /** Aborting cancels the row (already aborted: it never starts). */
  signal?: AbortSignal;
}

/** A row's inputs: an object, or a JSON text of one (as a line of an inputs file). */
export type Inputs = Record<string, unknown> | string;

export declare class Flow {
  private constructor();
  /** Runs one row. Rejects only for a programming error (bad arguments, a closed flow). */
  run(inputs: Inputs, options?: RunOptions): Promise<RowResult>;
  /** null when the row would be taken, else the reasons it is refused. Throws on a closed flow. */
  check(inputs: Inputs): string | null;
  /** Cancels the rows in flight, closes the flow off the JS thread; resolves when all is done. */
  close(): Promise<void>;
  /** close() was called. */
  readonly closed: boolean;
}

/** An Error from openFlow: code is 'invalid_input', 'incompatible' or the plugin's code. */
export interface OpenFlowError extends Error {
  code: RowCode;
}

/** Opens a flow file. Throws an OpenFlowError when it cannot be opened. */
export declare function openFlow(path: string, options?: OpenFlowOptions): Flow;
