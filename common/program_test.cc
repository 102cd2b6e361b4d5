#include "common/program.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "absl/flags/flag.h"

ABSL_FLAG(int, program_test_port, 1, "used by program_test only");
ABSL_FLAG(std::string, program_test_name, "default", "used by program_test only");

namespace hotline {
namespace {

TEST(ApplyEnvironmentToFlagsTest, SetsFlagsFromPrefixedVariables) {
  setenv("HOTLINE_PROGRAM_TEST_PORT", "6380", 1);
  setenv("HOTLINE_PROGRAM_TEST_NAME", "ticket", 1);
  EXPECT_EQ(ApplyEnvironmentToFlags(), "");
  EXPECT_EQ(absl::GetFlag(FLAGS_program_test_port), 6380);
  EXPECT_EQ(absl::GetFlag(FLAGS_program_test_name), "ticket");
  unsetenv("HOTLINE_PROGRAM_TEST_NAME");
}

TEST(ApplyEnvironmentToFlagsTest, MalformedValueNamesTheVariable) {
  setenv("HOTLINE_PROGRAM_TEST_PORT", "not-a-number", 1);
  std::string error = ApplyEnvironmentToFlags();
  unsetenv("HOTLINE_PROGRAM_TEST_PORT");
  EXPECT_NE(error.find("HOTLINE_PROGRAM_TEST_PORT"), std::string::npos) << error;
}

}  // namespace
}  // namespace hotline
