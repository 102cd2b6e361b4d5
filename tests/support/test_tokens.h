// Bearer tokens for tests, made one way everywhere: a test principal's token is a short word
// ("agent", "water"), and the registry holds its hash as a deployed token file does
// (deploy/tokens.example), so tests go through the same parsing and lookup as the servers.
#ifndef HOTLINE_TESTS_SUPPORT_TEST_TOKENS_H_
#define HOTLINE_TESTS_SUPPORT_TEST_TOKENS_H_

#include <memory>
#include <string>
#include <vector>

#include "common/auth.h"

namespace hotline::testing {

struct TestPrincipal {
  std::string token;       // What the test sends: ContextWithToken(token).
  std::string principal;   // "agent-zhang".
  std::string role;        // "agent", "department", ...
  std::string department;  // For the role "department".
};

// The token file's contents for `principals`: "sha256hex principal role [department]" lines.
std::string TokenFileFor(const std::vector<TestPrincipal>& principals);

// The registry a server would load from that file. A principal it refuses fails the test
// program at once (CHECK): the test itself would be wrong.
std::shared_ptr<const TokenRegistry> TokensFor(const std::vector<TestPrincipal>& principals);

}  // namespace hotline::testing

#endif  // HOTLINE_TESTS_SUPPORT_TEST_TOKENS_H_
