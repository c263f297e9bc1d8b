// The health schema's migrations (migrations/NNNN_*.sql), embedded at build time.
#pragma once

#include <vector>

#include "services/common/migrator.h"

namespace portunus::health {
const std::vector<Migration>& Migrations();
}  // namespace portunus::health
