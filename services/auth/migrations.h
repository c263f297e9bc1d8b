// The auth schema's migrations (migrations/NNNN_*.sql), embedded at build time.
#pragma once

#include <vector>

#include "services/common/migrator.h"

namespace portunus::auth {
const std::vector<Migration>& Migrations();
}  // namespace portunus::auth
