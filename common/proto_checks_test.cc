#include "common/proto_checks.h"

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/type.pb.h>
#include <gtest/gtest.h>

namespace hotline {
namespace {

TEST(ProtoChecksTest, TimestampsMustBeInTheRangeJsonCanExpress) {
  google::protobuf::Timestamp t;
  t.set_seconds(1727316000);
  EXPECT_TRUE(CheckWellFormed(t).ok());
  t.set_nanos(999999999);
  EXPECT_TRUE(CheckWellFormed(t).ok());
  t.set_nanos(-1);
  EXPECT_EQ(CheckWellFormed(t).code(), absl::StatusCode::kInvalidArgument);
  t.set_nanos(1000000000);
  EXPECT_EQ(CheckWellFormed(t).code(), absl::StatusCode::kInvalidArgument);
  t.set_nanos(0);
  t.set_seconds(253402300800);  // 10000-01-01.
  EXPECT_EQ(CheckWellFormed(t).code(), absl::StatusCode::kInvalidArgument);
  t.set_seconds(-62135596801);  // Before year 1.
  EXPECT_EQ(CheckWellFormed(t).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProtoChecksTest, DurationsNeedOneSignAndABound) {
  google::protobuf::Duration d;
  d.set_seconds(-3);
  d.set_nanos(-5);
  EXPECT_TRUE(CheckWellFormed(d).ok());
  d.set_nanos(5);
  EXPECT_EQ(CheckWellFormed(d).code(), absl::StatusCode::kInvalidArgument);
  d.set_seconds(315576000001);
  d.set_nanos(0);
  EXPECT_EQ(CheckWellFormed(d).code(), absl::StatusCode::kInvalidArgument);
}

// google.protobuf.Type has repeated nested messages (fields, options) and an enum (syntax):
// the path of a bad value inside them is named.
TEST(ProtoChecksTest, NestedAndRepeatedFieldsAreNamedByTheirPath) {
  google::protobuf::Type type;
  type.add_fields()->set_name("ok");
  google::protobuf::Field* field = type.add_fields();
  field->set_kind(static_cast<google::protobuf::Field::Kind>(77));
  absl::Status s = CheckWellFormed(type);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "fields[1].kind: 77 is not a value of Kind");
  field->set_kind(google::protobuf::Field::TYPE_STRING);
  EXPECT_TRUE(CheckWellFormed(type).ok());
  type.set_syntax(static_cast<google::protobuf::Syntax>(-4));
  EXPECT_EQ(CheckWellFormed(type).message(), "syntax: -4 is not a value of Syntax");
}

TEST(ProtoChecksTest, HostileNestingIsRefusedNotRecursedWithoutEnd) {
  google::protobuf::Value value;
  google::protobuf::Value* inner = &value;
  for (int i = 0; i < 100; ++i) {
    inner = &(*inner->mutable_struct_value()->mutable_fields())["x"];
  }
  inner->set_number_value(1);
  EXPECT_EQ(CheckWellFormed(value).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hotline
