/*
 * wfa.h -- the workflow-action plugin ABI, version 1.1 (1.1 appended wfa_host.acquire).
 *
 * A plugin is a shared library that exports exactly one symbol, wfa_plugin_entry().
 * A host (a workflow runner such as flowrun) dlopen()s it, calls the entry with the
 * ABI version it speaks, and gets back a static descriptor: the plugin's actions with
 * their JSON manifests, and the function table to create instances and run actions.
 *
 * C99, includes only <stddef.h> and <stdint.h>. Usable from C and C++.
 *
 * Rules (cite them as WFA-n in code and reviews):
 *
 *  WFA-1  Versioning. WFA_ABI_MAJOR changes only on a breaking change. WFA_ABI_MINOR
 *         grows when fields are appended to a struct or functions to a table. The entry
 *         refuses (returns NULL with code WFA_INCOMPATIBLE and a reason) when the host's
 *         major differs from the plugin's, or when the host's minor is older than the
 *         oldest minor the plugin can work with. Neither side reads or calls anything
 *         newer than min(host minor, plugin minor).
 *  WFA-2  Append only. Every struct starts with uint32_t struct_size, set by whoever fills
 *         the struct to sizeof() of the struct as *it* was compiled. A reader checks
 *         struct_size >= offsetof(field) + sizeof(field) before reading a field that was
 *         appended after 1.0 (WFA_HAS_FIELD below says it once), and treats a missing
 *         field as zero / NULL. Fields are never reordered, retyped or removed within one
 *         major version.
 *         The one exception is wfa_str, a by-value view: it is embedded in other structs
 *         and passed by value, so its size is part of every layout that holds it and it
 *         can never grow. It is frozen as {data, size} for the whole major version; a
 *         view that needs more would be a new type. The layout of every struct is
 *         pinned by compile-time asserts (tests/engine_api/c99/layout.c).
 *  WFA-3  No C++ type and no exception crosses the boundary. Every function either side
 *         hands to the other is noexcept in effect: it returns or calls back with an error.
 *         Enumerations travel as int32_t, never as a C enum type.
 *  WFA-4  Threads. Every plugin function may be called from any thread, concurrently,
 *         except destroy() (see below). Callbacks (done, log) run on plugin-owned threads,
 *         never inside the call that started the operation, and must not block for long,
 *         throw, or call destroy() on the instance that called them. "Never inside the
 *         call" does not mean "after it returned": done may run on a plugin thread while
 *         execute() / list_options() is still returning to its caller. A host that
 *         records the handle after the call must expect the operation to have finished
 *         already: set up whatever done needs *before* the call, and guard the handle
 *         with a lock that done takes too (or never rely on it inside done).
 *  WFA-5  Exactly once. For each execute() / list_options() call that returns a non-zero
 *         handle, done fires exactly once: with WFA_OK and outputs, or with an error
 *         (WFA_CANCELLED after cancel() or destroy()). It fires even when the operation
 *         fails at once (an unknown action id, JSON that does not parse, a call struct
 *         too short to hold action_id), asynchronously.
 *         A call returns 0 only when it could not be started at all: instance, call or
 *         done is NULL, or the plugin ran out of memory before it took the operation in.
 *         Then done is never called, the plugin keeps nothing (neither the call nor
 *         `user`), and the operation is the caller's to complete (the C++ host library
 *         completes it with WFA_INTERNAL).
 *  WFA-6  Memory. Nobody frees what the other side allocated.
 *         - Strings passed *into* the plugin (wfa_str, const char*) are borrowed for the
 *           duration of the call only; the plugin copies what it keeps.
 *         - wfa_result and everything it points to are borrowed by the host for the
 *           duration of the done callback only; the host copies what it keeps.
 *         - The descriptor returned by wfa_plugin_entry() and everything it points to are
 *           static: valid until the library is unloaded.
 *         - wfa_error is host-owned storage that the plugin fills (synchronous calls only).
 *         - `user` (execute, list_options) is opaque to the plugin and handed back
 *           unchanged to done. The caller keeps what it points to valid until that
 *           done has returned (when the call returned 0, WFA-5: until the call returned).
 *         - wfa_host and its ctx stay valid until destroy() has returned for every
 *           instance created with them.
 *  WFA-7  Text is UTF-8. wfa_str is a view {data, size}, not necessarily NUL-terminated.
 *         JSON strings passed in either direction are complete JSON documents.
 *  WFA-8  Secrets. The plugin never logs, nor puts into a result message, a secret: a
 *         connection config field its manifests mark "x-secret": true, or a credential
 *         it obtained with one (an access token).
 *  WFA-9  Lifetime. destroy() cancels everything in flight on that instance, waits until
 *         every pending done callback has returned and every plugin thread of that
 *         instance has been joined, then returns. After it returns no callback for that
 *         instance can fire. It must not be called from inside a callback, nor race any
 *         other call on the same instance. The host unloads the library only after every
 *         instance is destroyed; hosts should load with RTLD_NODELETE.
 *  WFA-10 The host validates options and inputs against the action's manifest before
 *         execute(); the plugin validates again and answers WFA_INVALID_INPUT without
 *         sending any request when they are wrong.
 *  WFA-11 JSON depth. No JSON document crossing the boundary (config, options, inputs,
 *         outputs, details) nests arrays and objects deeper than WFA_JSON_MAX_DEPTH (a
 *         top-level object is depth 1). Both sides parse them with exactly this limit. A
 *         plugin refuses, before any side effect, data it could not report back within
 *         it; it never emits deeper outputs (a write that succeeded is then reported as
 *         an error whose details say what was written, never lost to the host's parse).
 */
#ifndef WFA_WFA_H
#define WFA_WFA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WFA_ABI_MAJOR 1
#define WFA_ABI_MINOR 1

#if defined(_WIN32)
#define WFA_EXPORT __declspec(dllexport)
#else
#define WFA_EXPORT __attribute__((visibility("default")))
#endif

/* The one exported symbol's name, for dlsym(). */
#define WFA_ENTRY_SYMBOL "wfa_plugin_entry"

/* WFA-2: nonzero when the struct *ptr (any struct that starts with struct_size; ptr not
   NULL), as its filler compiled it, is long enough to hold `field` of `type`. Read a
   field appended after 1.0 only when this holds; treat it as zero / NULL otherwise.
   A macro, so that the ABI gains no symbol. */
#ifdef __cplusplus
#define WFA_HAS_FIELD(ptr, type, field) ((ptr)->struct_size >= offsetof(type, field) + sizeof(type::field))
#else
#define WFA_HAS_FIELD(ptr, type, field) ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))
#endif

/* ---- basic types -------------------------------------------------------------------- */

/* A UTF-8 string view. data may be NULL when size is 0. Passed by value and embedded in
   other structs, so it has no struct_size and its layout is frozen (WFA-2). */
typedef struct wfa_str {
  const char* data;
  size_t size;
} wfa_str;

/* Status codes (int32_t). Stable: values are never reused or renumbered. */
#define WFA_OK 0
#define WFA_INVALID_INPUT 1 /* options, inputs or config are wrong; no request was sent */
#define WFA_UNAUTHORIZED 2  /* credentials refused (401, or the token endpoint said no)  */
#define WFA_FORBIDDEN 3     /* authenticated but not allowed (403: missing scope)         */
#define WFA_NOT_FOUND 4     /* a user or resource does not exist                          */
#define WFA_CONFLICT 5      /* the state does not allow it (e.g. 409 identity exists)     */
#define WFA_RATE_LIMITED 6  /* 429 after the retries allowed                              */
#define WFA_UNAVAILABLE 7   /* upstream 5xx or connection failure after retries           */
#define WFA_TIMEOUT 8       /* a deadline passed                                          */
#define WFA_CANCELLED 9     /* cancel() or destroy()                                      */
#define WFA_INTERNAL 10     /* a bug or an unexpected upstream answer                     */
#define WFA_INCOMPATIBLE 11 /* ABI negotiation failed (entry only)                        */

/* Log levels (int32_t). */
#define WFA_LOG_TRACE 0
#define WFA_LOG_DEBUG 1
#define WFA_LOG_INFO 2
#define WFA_LOG_WARN 3
#define WFA_LOG_ERROR 4

/* WFA-11: the deepest nesting of arrays and objects in any JSON document passed either
   way. Not part of any struct layout: changing it changes no ABI, only what is accepted. */
#define WFA_JSON_MAX_DEPTH 64

/* Size of wfa_error.message, including the terminating NUL. */
#define WFA_ERROR_MESSAGE_SIZE 1024

/* Error of a synchronous call (entry, create).
   OWNERSHIP: host. The host sets struct_size; the plugin writes code and a
   NUL-terminated message, truncated to fit. */
typedef struct wfa_error {
  uint32_t struct_size;
  int32_t code;
  char message[WFA_ERROR_MESSAGE_SIZE];
} wfa_error;

/* Result of an asynchronous operation.
   OWNERSHIP: plugin; BORROWED by the host for the duration of the done callback. */
typedef struct wfa_result {
  uint32_t struct_size;
  int32_t code;         /* WFA_OK or an error code                                      */
  wfa_str outputs_json; /* WFA_OK: a JSON object valid for the action's outputs schema  */
  wfa_str message;      /* error: human-readable text, never a secret (WFA-8)           */
  int32_t http_status;  /* error: the upstream HTTP status when there was one, else 0   */
  uint32_t retryable;   /* error: 1 when the same call may succeed later unchanged      */
  wfa_str details_json; /* error: optional JSON object with machine-readable facts, e.g.
                           {"metadata_patched":true,"linked":false}; size 0 when none  */
} wfa_result;

/* Completion callback. Fires exactly once per started operation (WFA-5), on a plugin
   thread, possibly before the starting call has returned (WFA-4). */
typedef void (*wfa_done_fn)(void* user, const wfa_result* result);

/* Services the host offers the plugin.
   OWNERSHIP: host; must outlive every instance created with it. */
typedef struct wfa_host {
  uint32_t struct_size;
  void* ctx; /* passed back to every function below */
  /* May be NULL. Called on plugin-owned threads (WFA-4), possibly several at once: it must
     be thread-safe and must not block. message is borrowed for the call. */
  void (*log)(void* ctx, int32_t level, wfa_str message);
  /* May be NULL (then every level is enabled). Lets the plugin skip formatting. */
  uint32_t (*log_enabled)(void* ctx, int32_t level);
  /* since 1.1; read it only when WFA_HAS_FIELD(host, wfa_host, acquire) holds (WFA-2).
     May be NULL: the host keeps no budget. The host's rate budget, which it may share
     with every instance it runs and with other processes (a queue's workers on other
     machines). The plugin calls it before each request that counts against a server's
     rate limit: `bucket` names the limit (the plugin's choice, stable and without
     secrets, e.g. "crm:acme.example.com:api"), `cost` is what the request
     takes from it (1 for one request). It answers at once and never blocks: 0 to send
     now (the cost is taken), or the milliseconds to wait before asking again (nothing
     is taken). Called on plugin threads, possibly several at once: thread-safe. The
     plugin keeps its own pacing too; it waits for both. */
  uint32_t (*acquire)(void* ctx, wfa_str bucket, uint32_t cost);
} wfa_host;

/* One action the plugin offers. OWNERSHIP: plugin; STATIC (WFA-6). */
typedef struct wfa_action {
  uint32_t struct_size;
  const char* id;          /* e.g. "crm.update-contact"                                */
  const char* title;       /* e.g. "Link Account"                                      */
  const char* description; /* one paragraph                                            */
  /* The action manifest: a JSON object with "id", "version", "title", "description"
     and JSON Schemas (2020-12) under "connection", "options", "inputs", "outputs".
     Fields whose choices are listed at run time carry "x-dynamic-options"; secret
     config fields carry "x-secret": true. */
  const char* manifest_json;
} wfa_action;

/* Handle of an operation in flight: plugin-chosen and unique per instance. 0 is never a
   handle: execute() / list_options() return 0 only when they could not start (WFA-5). */
typedef uint64_t wfa_op;

/* An execute() request. BORROWED for the duration of execute(). */
typedef struct wfa_call {
  uint32_t struct_size;
  wfa_str action_id;
  wfa_str options_json; /* JSON object: design-time options, fixed per flow step        */
  wfa_str inputs_json;  /* JSON object: run-time inputs                                 */
  wfa_str run_id;       /* host's id of the run (row), for logs; may be empty           */
  wfa_str step_id;      /* host's id of the step, for logs; may be empty                */
  uint32_t timeout_ms;  /* deadline for the whole operation; 0 = the instance default   */
} wfa_call;

/* A list_options() request. BORROWED for the duration of list_options(). */
typedef struct wfa_options_call {
  uint32_t struct_size;
  wfa_str action_id;
  wfa_str field;        /* JSON Pointer into the manifest's fields, e.g.
                           "/inputs/secondary_connection_id"                           */
  wfa_str context_json; /* JSON object {"options":{..},"inputs":{..}} known so far; may be empty */
  wfa_str page_token;   /* empty for the first page                                     */
} wfa_options_call;
/* list_options() outputs_json:
   {"items":[{"value":<json>,"label":"text"},...],"next_page_token":"..." or null} */

/* An instance: one configured connection (e.g. one account of a service). Opaque. */
typedef struct wfa_instance wfa_instance;

/* The plugin descriptor. OWNERSHIP: plugin; STATIC (WFA-6). */
typedef struct wfa_plugin {
  uint32_t struct_size;
  uint32_t abi_major; /* the ABI the plugin was built against */
  uint32_t abi_minor;
  const char* name;    /* e.g. "crm-actions"              */
  const char* version; /* semver of the plugin, e.g. "1.2.3" */
  uint32_t action_count;
  const wfa_action* actions;

  /* Creates an instance from a connection config (JSON object, validated against the
     manifests' "connection" schema). On failure returns NULL and fills err (when not
     NULL) with WFA_INVALID_INPUT and a reason naming the field. host may be NULL. */
  wfa_instance* (*create)(const wfa_host* host, wfa_str config_json, wfa_error* err);

  /* See WFA-9. NULL is ignored. */
  void (*destroy)(wfa_instance* instance);

  /* Starts an action; returns its handle at once; done fires exactly once (WFA-5),
     possibly before this returns (WFA-4). Returns 0, and never calls done, only when
     the operation could not be started (WFA-5). */
  wfa_op (*execute)(wfa_instance* instance, const wfa_call* call, wfa_done_fn done, void* user);

  /* Starts listing the choices of a dynamic field; same contract as execute(). */
  wfa_op (*list_options)(wfa_instance* instance, const wfa_options_call* call, wfa_done_fn done, void* user);

  /* Asks an operation to stop. Idempotent; unknown or finished handles are ignored.
     The operation still completes exactly once, with WFA_CANCELLED unless it had
     already finished. */
  void (*cancel)(wfa_instance* instance, wfa_op op);

  /* since 1.2: append new members here (1.1 appended none here) */
} wfa_plugin;

/* The only exported symbol. host_major/host_minor: the ABI the host speaks.
   Returns the static descriptor, or NULL with err (when not NULL) filled with
   WFA_INCOMPATIBLE and a reason. Thread-safe; may be called more than once. */
typedef const wfa_plugin* (*wfa_plugin_entry_fn)(uint32_t host_major, uint32_t host_minor, wfa_error* err);
WFA_EXPORT const wfa_plugin* wfa_plugin_entry(uint32_t host_major, uint32_t host_minor, wfa_error* err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WFA_WFA_H */
