// The catalog schema's migrations (migrations/NNNN_*.sql), embedded at build time.
#pragma once

#include <vector>

#include "services/common/migrator.h"

namespace portunus::catalog {
const std::vector<Migration>& Migrations();
}  // namespace portunus::catalog
