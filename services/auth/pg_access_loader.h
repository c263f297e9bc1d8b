// Reading access facts (access_facts.h) out of the `auth` schema: the whole model (cache loads),
// the rows named by change notifications, or just what one decision needs (cache off). Used by
// PgAccessFeed and PgAccessSource; adapters only (includes libpqxx).
#pragma once

#include <memory>
#include <set>

#include "pqxx/pqxx"
#include "services/auth/access_cache.h"
#include "services/auth/access_facts.h"

namespace portunus::auth {

// Everything: accounts, teams, memberships, namespaces. Run it in a repeatable-read transaction
// for a consistent picture.
std::shared_ptr<AccessSnapshot> LoadAllAccessFacts(pqxx::transaction_base& w);

// The current state of the named objects: present ones as upserts, vanished ones as removals;
// for each team also its full member list.
AccessChanges LoadAccessChanges(pqxx::transaction_base& w, const std::set<int64_t>& users,
                                const std::set<int64_t>& teams, const std::set<int64_t>& namespaces);

// The facts one decision needs (FactsQuery).
std::shared_ptr<AccessSnapshot> LoadAccessFactsFor(pqxx::transaction_base& w, const FactsQuery& query);

}  // namespace portunus::auth
