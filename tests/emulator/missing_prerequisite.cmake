# Registered as a test in place of a check that cannot run (see CMakeLists.txt): fails
# with the reason, so a missing prerequisite turns CI red instead of skipping silently.
message(FATAL_ERROR "missing prerequisite: ${WHAT}")
