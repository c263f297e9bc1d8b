// The scanner schema's migrations (migrations/NNNN_*.sql), embedded at build time.
#pragma once

#include <vector>

#include "services/common/migrator.h"

namespace portunus::scanner {
const std::vector<Migration>& Migrations();
}  // namespace portunus::scanner
