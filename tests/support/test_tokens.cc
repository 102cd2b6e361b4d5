#include "tests/support/test_tokens.h"

#include <glog/logging.h>

#include "absl/strings/str_cat.h"

namespace hotline::testing {

std::string TokenFileFor(const std::vector<TestPrincipal>& principals) {
  std::string out;
  for (const TestPrincipal& p : principals) {
    absl::StrAppend(&out, HashToken(p.token), " ", p.principal, " ", p.role);
    if (!p.department.empty()) absl::StrAppend(&out, " ", p.department);
    out += "\n";
  }
  return out;
}

std::shared_ptr<const TokenRegistry> TokensFor(const std::vector<TestPrincipal>& principals) {
  absl::StatusOr<std::shared_ptr<const TokenRegistry>> registry =
      TokenRegistry::Parse(TokenFileFor(principals));
  CHECK(registry.ok()) << registry.status();
  return *registry;
}

}  // namespace hotline::testing
