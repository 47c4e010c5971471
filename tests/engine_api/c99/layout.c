/* Compile-time pins of the ABI's layout (WFA-2): the offset of every field and the size
   of every struct of wfa.h 1.1 on x86_64 LP64, and the stable constants. Reordering,
   retyping or inserting a field, or growing wfa_str, breaks the build of this file.
   Appending a field to a struct (a new minor version) changes its sizeof only: update
   that one line, and add a line for the new field.
   C99 has no _Static_assert: a negative array size is the compile error. */
#include <wfa/wfa.h>

#include <stddef.h>

#define WFA_PIN(name, cond) typedef char wfa_pin_##name[(cond) ? 1 : -1]
#define WFA_PIN_FIELD(type, field, offset) WFA_PIN(type##_##field, offsetof(type, field) == (offset))
#define WFA_PIN_SIZE(type, size) WFA_PIN(type##_sizeof, sizeof(type) == (size))

/* Values that travel across the boundary: never renumbered (WFA-1). */
WFA_PIN(abi_major, WFA_ABI_MAJOR == 1);
WFA_PIN(abi_minor, WFA_ABI_MINOR >= 1); /* 1.1: wfa_host.acquire */
WFA_PIN(error_message_size, WFA_ERROR_MESSAGE_SIZE == 1024);
WFA_PIN(codes, WFA_OK == 0 && WFA_INVALID_INPUT == 1 && WFA_UNAUTHORIZED == 2 && WFA_FORBIDDEN == 3 &&
                   WFA_NOT_FOUND == 4 && WFA_CONFLICT == 5 && WFA_RATE_LIMITED == 6 && WFA_UNAVAILABLE == 7 &&
                   WFA_TIMEOUT == 8 && WFA_CANCELLED == 9 && WFA_INTERNAL == 10 && WFA_INCOMPATIBLE == 11);
WFA_PIN(levels,
        WFA_LOG_TRACE == 0 && WFA_LOG_DEBUG == 1 && WFA_LOG_INFO == 2 && WFA_LOG_WARN == 3 && WFA_LOG_ERROR == 4);
WFA_PIN(op_size, sizeof(wfa_op) == 8);

#if defined(__x86_64__) && defined(__LP64__)

/* wfa_str: frozen, no struct_size (WFA-2). */
WFA_PIN_FIELD(wfa_str, data, 0);
WFA_PIN_FIELD(wfa_str, size, 8);
WFA_PIN_SIZE(wfa_str, 16);

WFA_PIN_FIELD(wfa_error, struct_size, 0);
WFA_PIN_FIELD(wfa_error, code, 4);
WFA_PIN_FIELD(wfa_error, message, 8);
WFA_PIN_SIZE(wfa_error, 1032);

WFA_PIN_FIELD(wfa_result, struct_size, 0);
WFA_PIN_FIELD(wfa_result, code, 4);
WFA_PIN_FIELD(wfa_result, outputs_json, 8);
WFA_PIN_FIELD(wfa_result, message, 24);
WFA_PIN_FIELD(wfa_result, http_status, 40);
WFA_PIN_FIELD(wfa_result, retryable, 44);
WFA_PIN_FIELD(wfa_result, details_json, 48);
WFA_PIN_SIZE(wfa_result, 64);

WFA_PIN_FIELD(wfa_host, struct_size, 0);
WFA_PIN_FIELD(wfa_host, ctx, 8);
WFA_PIN_FIELD(wfa_host, log, 16);
WFA_PIN_FIELD(wfa_host, log_enabled, 24);
WFA_PIN_FIELD(wfa_host, acquire, 32); /* since 1.1 */
WFA_PIN_SIZE(wfa_host, 40);

WFA_PIN_FIELD(wfa_action, struct_size, 0);
WFA_PIN_FIELD(wfa_action, id, 8);
WFA_PIN_FIELD(wfa_action, title, 16);
WFA_PIN_FIELD(wfa_action, description, 24);
WFA_PIN_FIELD(wfa_action, manifest_json, 32);
WFA_PIN_SIZE(wfa_action, 40);

WFA_PIN_FIELD(wfa_call, struct_size, 0);
WFA_PIN_FIELD(wfa_call, action_id, 8);
WFA_PIN_FIELD(wfa_call, options_json, 24);
WFA_PIN_FIELD(wfa_call, inputs_json, 40);
WFA_PIN_FIELD(wfa_call, run_id, 56);
WFA_PIN_FIELD(wfa_call, step_id, 72);
WFA_PIN_FIELD(wfa_call, timeout_ms, 88);
WFA_PIN_SIZE(wfa_call, 96);

WFA_PIN_FIELD(wfa_options_call, struct_size, 0);
WFA_PIN_FIELD(wfa_options_call, action_id, 8);
WFA_PIN_FIELD(wfa_options_call, field, 24);
WFA_PIN_FIELD(wfa_options_call, context_json, 40);
WFA_PIN_FIELD(wfa_options_call, page_token, 56);
WFA_PIN_SIZE(wfa_options_call, 72);

WFA_PIN_FIELD(wfa_plugin, struct_size, 0);
WFA_PIN_FIELD(wfa_plugin, abi_major, 4);
WFA_PIN_FIELD(wfa_plugin, abi_minor, 8);
WFA_PIN_FIELD(wfa_plugin, name, 16);
WFA_PIN_FIELD(wfa_plugin, version, 24);
WFA_PIN_FIELD(wfa_plugin, action_count, 32);
WFA_PIN_FIELD(wfa_plugin, actions, 40);
WFA_PIN_FIELD(wfa_plugin, create, 48);
WFA_PIN_FIELD(wfa_plugin, destroy, 56);
WFA_PIN_FIELD(wfa_plugin, execute, 64);
WFA_PIN_FIELD(wfa_plugin, list_options, 72);
WFA_PIN_FIELD(wfa_plugin, cancel, 80);
WFA_PIN_SIZE(wfa_plugin, 88);

#endif
