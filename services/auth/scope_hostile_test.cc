// Feeds the scope parser hostile and random input (empty, huge, NUL bytes, unicode, "::::",
// near-valid mutations) from a fixed seed and checks it never crashes, always answers with
// kInvalidArgument and a printable bounded message, and never yields more than was asked.
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/auth/scope.h"
#include "services/auth/scope_checks.h"

namespace portunus::auth {
namespace {

const std::vector<std::string>& Pieces() {
  static const auto* pieces = new std::vector<std::string>{
      "repository", "registry", "catalog", ":", ":", "/", ",", "*", "pull", "push", "delete",
      " ", "  ", std::string("\0", 1), "\xff", "\xc3\xa9", "\xe2\x80\xae", "\xf0\x9f\x90\xb3",
      "::::", "(", ")", "(plugin)", "localhost:5000", "a", "b", "A", "-", "_", "__", ".", "0",
      "%00", "\\", "\"", "\n", "\t", "..", "../", "ns/app", "team/app", "'", ";", "=", "&"};
  return *pieces;
}

std::string RandomText(std::mt19937_64& rng) {
  const auto& pieces = Pieces();
  std::uniform_int_distribution<int> len(0, 24);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  std::string s;
  for (int n = len(rng); n > 0; --n) s += pieces[pick(rng)];
  return s;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::vector<std::string> RandomGrant(std::mt19937_64& rng) {
  static const std::vector<std::string> actions = {"pull", "push", "delete", "*", "",
                                                   "PULL", "x y", "admin", "pull,push"};
  std::vector<std::string> g;
  for (int n = static_cast<int>(rng() % 5); n > 0; --n) g.push_back(actions[rng() % actions.size()]);
  return g;
}

void Expect(const std::vector<std::string>& values, std::mt19937_64& rng) {
  const std::string problem = CheckScopeInvariants(values, RandomGrant(rng));
  std::string shown;
  for (const std::string& v : values) shown += QuoteForError(v) + " ";
  EXPECT_EQ(problem, "") << "input: " << shown;
}

TEST(ScopeHostileTest, FixedHostileInputs) {
  std::mt19937_64 rng(1);
  const std::vector<std::vector<std::string>> cases = {
      {""},
      {"::::"},
      {":::::::::::::::::::::::::::::::"},
      {std::string(1 << 20, 'a')},
      {"repository:" + std::string(1 << 20, 'a') + ":pull"},
      {"repository:a:" + std::string(1 << 20, ',')},
      {std::string(1 << 16, ' ')},
      {std::string("repository:a:pull\0push", 22)},
      {std::string("\0\0\0\0", 4)},
      {"repository:\xe2\x80\xae/app:pull"},
      {"repository:app:pull\xf0\x9f\x90\xb3"},
      {"repository:a:*,*,*,pull"},
      {"repository(:a:pull"},
      {"repository(plugin)(plugin):a:pull"},
      {std::vector<std::string>(1000, "repository:a:pull")},
  };
  for (const auto& values : cases) Expect(values, rng);
}

TEST(ScopeHostileTest, RandomPieces) {
  std::mt19937_64 rng(20261122);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::string> values;
    for (int n = static_cast<int>(rng() % 4); n > 0; --n) values.push_back(RandomText(rng));
    Expect(values, rng);
  }
}

TEST(ScopeHostileTest, RandomBytes) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 5000; ++i) Expect({RandomBytes(rng, rng() % 300)}, rng);
}

TEST(ScopeHostileTest, MutatedValidScopes) {
  std::mt19937_64 rng(7);
  const std::string valid = "repository:localhost:5000/team/app:pull,push";
  for (int i = 0; i < 20000; ++i) {
    std::string s = valid;
    for (int m = static_cast<int>(rng() % 4) + 1; m > 0; --m) {
      const size_t pos = rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0:
          s.insert(pos, 1, static_cast<char>(rng() & 0xff));
          break;
        case 1:
          if (pos < s.size()) s.erase(pos, 1);
          break;
        default:
          if (pos < s.size()) s[pos] = static_cast<char>(rng() & 0xff);
      }
    }
    Expect({s}, rng);
  }
}

}  // namespace
}  // namespace portunus::auth
