// The engine_api raw-ABI out-of-memory sweep, on libauth0_actions.so: whichever
// allocation of execute() / list_options() fails, the call returns 0 with no callback or
// calls back exactly once, and destroy() still returns (WFA-5, WFA-9). The port is closed,
// so every op that starts ends quickly with a connection error.
#define A0_OOM_CONFIG R"({"domain":"127.0.0.1:9","token":"oom-test-token","max_retries":0})"
#define A0_OOM_ACTION "auth0.get-user"
#define A0_OOM_INPUTS R"({"user_id":"auth0|oom-test-user"})"
#define A0_OOM_OPTIONS_ACTION "auth0.link-account"
#define A0_OOM_OPTIONS_FIELD "/inputs/secondary_connection_id"
#define A0_OOM_NAME_PREFIX "auth0 plugin: "
#include "../../engine_api/abi/oom_tests.cpp"
