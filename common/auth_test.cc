#include "common/auth.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace hotline {
namespace {

TEST(HashTokenTest, IsLowercaseHexSha256) {
  // SHA-256 of "test", a published test vector.
  EXPECT_EQ(HashToken("test"), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
}

TEST(TokenRegistryTest, ParsesRolesAndDepartments) {
  std::string file = absl::StrCat("# comment\n\n", HashToken("t-agent"), " zhang agent\n",
                                  HashToken("t-water"), "\twater-system department water\n");
  auto registry = TokenRegistry::Parse(file);
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_EQ((*registry)->size(), 2u);

  auto agent = (*registry)->AuthenticateToken("t-agent");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->name, "zhang");
  EXPECT_EQ(agent->role, Role::kAgent);

  auto water = (*registry)->AuthenticateToken("t-water");
  ASSERT_TRUE(water.ok());
  EXPECT_EQ(water->role, Role::kDepartment);
  EXPECT_EQ(water->department_id, "water");

  EXPECT_EQ((*registry)->AuthenticateToken("t-unknown").status().code(),
            absl::StatusCode::kUnauthenticated);
  // The file stores hashes; presenting the hash itself as a token must not work.
  EXPECT_EQ((*registry)->AuthenticateToken(HashToken("t-agent")).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(TokenRegistryTest, RejectsMalformedLinesNamingTheLine) {
  struct Case {
    std::string line;
    std::string expected_fragment;
  };
  std::string hash = HashToken("x");
  for (const Case& c : std::vector<Case>{
           {"abc zhang agent", "64-digit hex"},
           {hash + " zhang", "expected"},
           {hash + " zhang wizard", "unknown role 'wizard'"},
           {hash + " water department", "needs a department_id"},
           {hash + " zhang agent water", "only department tokens"},
       }) {
    auto registry = TokenRegistry::Parse("# header\n" + c.line + "\n");
    ASSERT_FALSE(registry.ok()) << c.line;
    EXPECT_EQ(registry.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(registry.status().message().find("line 2"), std::string::npos) << registry.status();
    EXPECT_NE(registry.status().message().find(c.expected_fragment), std::string::npos)
        << registry.status();
  }
  auto duplicate = TokenRegistry::Parse(hash + " a agent\n" + hash + " b editor\n");
  EXPECT_FALSE(duplicate.ok());
}

TEST(AuthorizeTest, RolesAndAdmin) {
  Principal agent{"zhang", Role::kAgent, "", ""};
  Principal admin{"root", Role::kAdmin, "", ""};
  EXPECT_TRUE(Authorize(agent, {Role::kAgent, Role::kSupervisor}).ok());
  absl::Status denied = Authorize(agent, {Role::kEditor});
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(denied.message().find("editor"), std::string::npos) << denied;
  EXPECT_TRUE(Authorize(admin, {Role::kEditor}).ok());
}

TEST(AuthorizeTest, DepartmentsOnlyReachTheirOwnWork) {
  Principal water{"water-system", Role::kDepartment, "water", ""};
  Principal supervisor{"li", Role::kSupervisor, "", ""};
  EXPECT_TRUE(AuthorizeDepartment(water, "water").ok());
  EXPECT_EQ(AuthorizeDepartment(water, "housing").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(AuthorizeDepartment(supervisor, "housing").ok());
}

}  // namespace
}  // namespace hotline
