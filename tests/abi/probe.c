/* The ABI probe: a shared library with the one symbol a plugin exports, compiled with
   debug info from wfa.h. Every type of the contract is reachable from it (the entry
   returns const wfa_plugin*, whose members reach wfa_action, wfa_host, wfa_str,
   wfa_error, wfa_call, wfa_options_call, wfa_result through wfa_done_fn), so abidw's
   description of this library is the ABI of wfa.h (abi_check.sh). */
#include <wfa/wfa.h>

WFA_EXPORT const wfa_plugin* wfa_plugin_entry(uint32_t host_major, uint32_t host_minor, wfa_error* err) {
  (void)host_major;
  (void)host_minor;
  (void)err;
  return NULL;
}
