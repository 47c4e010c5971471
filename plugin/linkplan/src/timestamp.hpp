// The export's created_at: ISO 8601 / RFC 3339 times to milliseconds since the epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace a0::linkplan::detail {

/// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (a space for the T is accepted, as
/// RFC 3339 allows); nullopt for anything else, or a field out of range. Fractions
/// beyond milliseconds are cut.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view s);

}  // namespace a0::linkplan::detail
