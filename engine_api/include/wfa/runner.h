/*
 * wfa/runner.h -- the host library's flow runner as a C API, version 1.0.
 *
 * flowrun runs a flow file over rows of inputs. This API gives any language the same
 * engine one row at a time (the ${{ }} expressions, validation against the manifests,
 * secret masking, the rate-limit retries): open a flow file once, run rows on it
 * asynchronously, each completing with the result line flowrun prints for it, cancel,
 * close. A queue's worker (engine_api/bindings/node) is built on it.
 *
 * C99, includes only wfa.h. Exported by libwfa_runner.so. The rules of wfa.h apply, and
 * are cited as WFA-n here:
 *  - WFA-2 append only: every struct starts with struct_size;
 *  - WFA-3 no C++ type, no exception crosses it; enumerations travel as int32_t;
 *  - WFA-5 exactly once: for each wfa_runner_run() that returns non-zero, done fires
 *    exactly once (also after cancel or close); 0 means it did not start, done never fires;
 *  - WFA-6 memory: strings passed in are borrowed for the call; the wfa_row_result and
 *    what it points to are borrowed for the done call; nobody frees the other's memory.
 *
 * Threads. Every function may be called from any thread, concurrently, except
 * wfa_runner_close() (not concurrently with anything else on the same flow, not from
 * inside a callback). Callbacks (done, log, acquire) run on the runner's or the plugin's
 * threads, never inside the call that started the row, and must not block for long.
 * done may run before wfa_runner_run() has returned to its caller (WFA-4).
 */
#ifndef WFA_RUNNER_H
#define WFA_RUNNER_H

#include <wfa/wfa.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WFA_RUNNER_MAJOR 1
#define WFA_RUNNER_MINOR 0

/* A flow opened for running: its plugins loaded, its connections' instances created. */
typedef struct wfa_runner_flow wfa_runner_flow;

/* Handle of a row in flight; never 0, unique per flow. */
typedef uint64_t wfa_runner_row;

/* How a row ended (int32_t), the "status" of its result line. */
#define WFA_ROW_OK 0
#define WFA_ROW_FAILED 1
#define WFA_ROW_CANCELLED 2

/* A row's result. OWNERSHIP: runner; BORROWED for the duration of the done callback. */
typedef struct wfa_row_result {
  uint32_t struct_size;
  int32_t status;         /* WFA_ROW_*                                                         */
  wfa_str line;           /* the JSON result line flowrun prints for this row, secrets
                         redacted, without a newline: {"row":N,"status":..,"steps":{..},..} */
  int32_t code;           /* failed / cancelled: the WFA_* code of the step that ended the row
                         (WFA_INVALID_INPUT for inputs refused before any step ran); ok: 0 */
  uint32_t retryable;     /* failed: 1 when that step's error says the same row may succeed later */
  uint32_t retry_after_s; /* failed with WFA_RATE_LIMITED: the server's wait in seconds
                             (details.retry_after_s), after the runner's own retries; else 0 */
} wfa_row_result;

typedef void (*wfa_runner_done_fn)(void* user, const wfa_row_result* result);

/* Options of wfa_runner_open(). OWNERSHIP: caller; read during the call. The functions
   and ctx it holds must stay valid until wfa_runner_close() has returned. A zeroed
   struct (with struct_size set) is the default of every field. */
typedef struct wfa_runner_options {
  uint32_t struct_size;
  void* ctx; /* passed back to log and acquire */
  /* Diagnostic lines (plugin log lines, rate-limit retries), redacted, without a newline;
     one call at a time. NULL: written to stderr. */
  void (*log)(void* ctx, int32_t level, wfa_str line);
  /* 0: plugin log lines below WFA_LOG_WARN are dropped (flowrun's default). Otherwise
     1 + the lowest WFA_LOG_* level passed (1 + WFA_LOG_TRACE: every line). Offset by
     one so that a zeroed struct means the default. */
  int32_t log_threshold;
  /* A row answered rate_limited with a server wait (Retry-After) is run again after it
     while its waits add up to at most this many seconds (flowrun --max-retry-wait).
     0 means 300; UINT32_MAX means never wait (the row fails with retry_after_s set, for
     a queue that pauses itself). */
  uint32_t max_retry_wait_s;
  /* 1: leave the steps' outputs out of the result lines (flowrun --no-step-outputs). */
  uint32_t no_step_outputs;
  /* The host's rate budget handed to every plugin instance as wfa_host.acquire (ABI 1.1);
     NULL: none. Same contract as wfa_host.acquire. */
  uint32_t (*acquire)(void* ctx, wfa_str bucket, uint32_t cost);
} wfa_runner_options;

/* Opens a flow file: parses it, loads its plugins, fills its connections from the
   environment, validates it, creates its instances. options may be NULL (defaults).
   Returns NULL and fills err (when not NULL) on failure: WFA_INVALID_INPUT with every
   validation error (one per line, redacted) for a flow that does not validate or cannot
   be read; the plugin's code and reason when an instance cannot be created;
   WFA_INCOMPATIBLE when the caller's major differs. Nothing has run then. */
WFA_EXPORT wfa_runner_flow* wfa_runner_open(uint32_t caller_major, uint32_t caller_minor, wfa_str flow_path,
                                            const wfa_runner_options* options, wfa_error* err);

/* Checks one row of inputs (a JSON object, as a line of flowrun --inputs-file) against the
   flow's declared inputs without running it. Returns WFA_OK, or WFA_INVALID_INPUT with
   the reasons in err (when not NULL). For a queue that refuses bad rows before enqueueing. */
WFA_EXPORT int32_t wfa_runner_check(wfa_runner_flow* flow, wfa_str inputs_json, wfa_error* err);

/* Starts one row: `inputs_json` a JSON object of the flow's inputs; `row` the number its
   result line carries (flowrun's line number in its inputs file, from 0). Returns the
   row's handle; done fires exactly once. Inputs that do not parse or do not check are a
   failed row (WFA_INVALID_INPUT), reported through done like any other. Returns 0, and
   never calls done, only when flow or done is NULL, the flow is closing, or memory ran out. */
WFA_EXPORT wfa_runner_row wfa_runner_run(wfa_runner_flow* flow, wfa_str inputs_json, uint64_t row,
                                         wfa_runner_done_fn done, void* user);

/* Asks a row to stop: the step in flight is cancelled (the plugin's cancel), a wait for a
   retry ends. Its done still fires once, with WFA_ROW_CANCELLED unless it had already
   ended. Idempotent; unknown or finished handles are ignored. */
WFA_EXPORT void wfa_runner_cancel(wfa_runner_flow* flow, wfa_runner_row row);

/* Cancels every row in flight, waits until each done has returned, destroys the
   instances (WFA-9), then frees the flow. After it returns no callback fires. NULL is
   ignored. Not from inside a callback; not concurrently with another call on the flow. */
WFA_EXPORT void wfa_runner_close(wfa_runner_flow* flow);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WFA_RUNNER_H */
