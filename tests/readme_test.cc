// The README's contract with a new user: its first fenced code block holds exactly the two
// commands (run the stack, run the tests), in this order, one line each, and both exist.
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/harness/harness.h"

namespace portunus::harness {
namespace {

TEST(ReadmeTest, FirstCodeBlockIsTheTwoCommands) {
  HARNESS_ASSIGN_OR_FAIL(std::string readme, ReadFile(SourceDir() + "/README.md"));
  std::vector<std::string> block;
  bool inside = false;
  for (absl::string_view line : absl::StrSplit(readme, '\n')) {
    if (absl::StartsWith(line, "```")) {
      if (inside) break;
      inside = true;
      continue;
    }
    if (inside) block.emplace_back(line);
  }
  ASSERT_EQ(block, (std::vector<std::string>{"./scripts/run-local", "./scripts/test"}));
  for (const char* script : {"scripts/run-local", "scripts/test", "scripts/install-deps",
                             "scripts/build", ".ci/run"}) {
    EXPECT_EQ(access((SourceDir() + "/" + script).c_str(), X_OK), 0) << script;
  }
  HARNESS_ASSIGN_OR_FAIL(std::string ci, ReadFile(SourceDir() + "/.ci/run"));
  EXPECT_NE(ci.find("./scripts/test"), std::string::npos) << ".ci/run must run the README's test command";
}

}  // namespace
}  // namespace portunus::harness
