// "Did you mean" hints: the known name closest to a mistyped one (SQL columns and functions,
// subcommands and flags of the CLI). Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace saleslake {

// Levenshtein distance, ignoring ASCII case.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `name`, or "" when none is within max(2, |name| / 3) edits (farther
// than that a hint confuses more than it helps).
std::string ClosestName(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace saleslake
