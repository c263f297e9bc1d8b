// UTF-8 well-formedness, shared by every place that takes text from clients (proto3 strings must
// be valid UTF-8 or a call fails to serialize).
#pragma once

#include "absl/strings/string_view.h"

namespace portunus {

// True when `s` is well-formed UTF-8: no overlongs, no surrogates, nothing above U+10FFFF, no
// truncated sequence.
bool IsValidUtf8(absl::string_view s);

}  // namespace portunus
