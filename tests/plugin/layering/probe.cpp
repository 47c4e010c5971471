// A layering probe (CMakeLists.txt): includes A0_PROBE_HEADER as a consumer of one library.
#include A0_PROBE_HEADER

int a0_layering_probe() { return 0; }
