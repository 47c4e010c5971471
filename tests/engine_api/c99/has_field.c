/* WFA_HAS_FIELD (wfa.h, WFA-2) at run time, as C99 and, through has_field.cpp, as C++:
   a struct whose struct_size ends just before a field, or inside it, does not have it; one
   that ends at or after its last byte does. Exit status 0 when every check holds. */
#include <wfa/wfa.h>

#include <stdio.h>

static int failures = 0;

static void check(int cond, const char* what) {
  if (!cond) {
    fprintf(stderr, "FAIL: %s\n", what);
    ++failures;
  }
}

int main(void) {
  wfa_call call;
  wfa_error err;
  wfa_result res;
  wfa_host host;
  const wfa_call* cp = &call;

  call.struct_size = (uint32_t)sizeof(wfa_call);
  check(WFA_HAS_FIELD(cp, wfa_call, action_id), "a whole wfa_call has action_id");
  check(WFA_HAS_FIELD(cp, wfa_call, timeout_ms), "a whole wfa_call has timeout_ms");

  /* A host from before timeout_ms: everything up to step_id, nothing after. */
  call.struct_size = (uint32_t)offsetof(wfa_call, timeout_ms);
  check(WFA_HAS_FIELD(cp, wfa_call, step_id), "a call ending at timeout_ms has step_id");
  check(!WFA_HAS_FIELD(cp, wfa_call, timeout_ms), "a call ending at timeout_ms has no timeout_ms");

  /* Ending one byte short of a field's end is not having it (not only its start counts). */
  call.struct_size = (uint32_t)(offsetof(wfa_call, action_id) + sizeof(wfa_str) - 1);
  check(!WFA_HAS_FIELD(cp, wfa_call, action_id), "a call one byte short of action_id's end has none");
  call.struct_size = (uint32_t)(offsetof(wfa_call, action_id) + sizeof(wfa_str));
  check(WFA_HAS_FIELD(cp, wfa_call, action_id), "a call ending right after action_id has it");
  check(!WFA_HAS_FIELD(cp, wfa_call, options_json), "... and not the next field");

  /* An array field: its whole size counts. */
  err.struct_size = (uint32_t)(offsetof(wfa_error, message) + 8);
  check(WFA_HAS_FIELD(&err, wfa_error, code), "a short wfa_error has code");
  check(!WFA_HAS_FIELD(&err, wfa_error, message), "a short wfa_error has not the whole message");
  err.struct_size = (uint32_t)sizeof(wfa_error);
  check(WFA_HAS_FIELD(&err, wfa_error, message), "a whole wfa_error has message");

  res.struct_size = (uint32_t)offsetof(wfa_result, details_json);
  check(!WFA_HAS_FIELD(&res, wfa_result, details_json), "a result from before details_json has none");
  check(WFA_HAS_FIELD(&res, wfa_result, retryable), "... but has retryable");

  /* wfa_host.acquire (1.1): a 1.0 host's struct ends where acquire starts. */
  host.struct_size = (uint32_t)offsetof(wfa_host, acquire);
  check(WFA_HAS_FIELD(&host, wfa_host, log_enabled), "a 1.0 wfa_host has log_enabled");
  check(!WFA_HAS_FIELD(&host, wfa_host, acquire), "a 1.0 wfa_host has no acquire");
  host.struct_size = (uint32_t)sizeof(wfa_host);
  check(WFA_HAS_FIELD(&host, wfa_host, acquire), "a 1.1 wfa_host has acquire");

  if (failures == 0) printf("WFA_HAS_FIELD: all checks hold\n");
  return failures == 0 ? 0 : 1;
}
