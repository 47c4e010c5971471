// has_field.c compiled as C++: wfa.h's C++ branch of WFA_HAS_FIELD, which the SDK
// (wfa/plugin.hpp) and the host library use.
#include "has_field.c"
