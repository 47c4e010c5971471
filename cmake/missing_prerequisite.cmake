# Run by the test a0_require (cmake/require.cmake) registers in place of a check that
# cannot run: fails with the reason, so a missing prerequisite turns CI red.
message(FATAL_ERROR "missing prerequisite: ${WHAT}. Run scripts/bootstrap, then configure again.")
