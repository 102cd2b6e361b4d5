#include "common/proto_checks.h"

#include <google/protobuf/descriptor.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hotline {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the bounds of google.protobuf.Timestamp.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;
// About 10,000 years, the bound of google.protobuf.Duration.
constexpr int64_t kMaxDurationSeconds = 315576000000;
constexpr int32_t kMaxNanos = 999999999;

std::string Join(const std::string& path, const std::string& name) {
  return path.empty() ? name : absl::StrCat(path, ".", name);
}

absl::Status CheckTimestamp(const Message& m, const std::string& path) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  int64_t seconds = r->GetInt64(m, d->FindFieldByName("seconds"));
  int32_t nanos = r->GetInt32(m, d->FindFieldByName("nanos"));
  if (nanos < 0 || nanos > kMaxNanos) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": nanos must be 0 to 999999999, got ", nanos));
  }
  if (seconds < kMinTimestampSeconds || seconds > kMaxTimestampSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": seconds must be within 0001-01-01 and 9999-12-31 (",
                     kMinTimestampSeconds, " to ", kMaxTimestampSeconds, "), got ", seconds));
  }
  return absl::OkStatus();
}

absl::Status CheckDuration(const Message& m, const std::string& path) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  int64_t seconds = r->GetInt64(m, d->FindFieldByName("seconds"));
  int32_t nanos = r->GetInt32(m, d->FindFieldByName("nanos"));
  if (nanos < -kMaxNanos || nanos > kMaxNanos) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": nanos must be -999999999 to 999999999, got ", nanos));
  }
  if (seconds < -kMaxDurationSeconds || seconds > kMaxDurationSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": seconds must be within ±", kMaxDurationSeconds, ", got ", seconds));
  }
  if ((seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": seconds and nanos must have the same sign"));
  }
  return absl::OkStatus();
}

absl::Status CheckEnum(const FieldDescriptor* field, int number, bool repeated,
                       const std::string& path) {
  const EnumValueDescriptor* value = field->enum_type()->FindValueByNumber(number);
  if (value == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", number, " is not a value of ", field->enum_type()->name()));
  }
  if (repeated && number == 0 && absl::EndsWith(value->name(), "_UNSPECIFIED")) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": must not be ", value->name()));
  }
  return absl::OkStatus();
}

absl::Status CheckMessage(const Message& m, const std::string& path, int depth) {
  const Descriptor* d = m.GetDescriptor();
  if (d->full_name() == "google.protobuf.Timestamp") return CheckTimestamp(m, path);
  if (d->full_name() == "google.protobuf.Duration") return CheckDuration(m, path);
  // Requests are a few levels deep; a deeper message is hostile (recursion in a Struct).
  if (depth > 32) return absl::InvalidArgumentError(absl::StrCat(path, ": nested too deeply"));
  const Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);  // Only the fields that are set: cheap for small requests.
  for (const FieldDescriptor* field : fields) {
    const std::string name = Join(path, field->name());
    if (field->is_map()) {
      // Map values are messages of their own (key, value) entries; the key names the entry.
      for (int i = 0; i < r->FieldSize(m, field); ++i) {
        absl::Status s = CheckMessage(r->GetRepeatedMessage(m, field, i),
                                      absl::StrCat(name, "[", i, "]"), depth + 1);
        if (!s.ok()) return s;
      }
      continue;
    }
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, field); ++i) {
          absl::Status s = CheckMessage(r->GetRepeatedMessage(m, field, i),
                                        absl::StrCat(name, "[", i, "]"), depth + 1);
          if (!s.ok()) return s;
        }
      } else {
        absl::Status s = CheckMessage(r->GetMessage(m, field), name, depth + 1);
        if (!s.ok()) return s;
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      if (field->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, field); ++i) {
          absl::Status s = CheckEnum(field, r->GetRepeatedEnumValue(m, field, i), true,
                                     absl::StrCat(name, "[", i, "]"));
          if (!s.ok()) return s;
        }
      } else {
        absl::Status s = CheckEnum(field, r->GetEnumValue(m, field), false, name);
        if (!s.ok()) return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckWellFormed(const Message& message) { return CheckMessage(message, "", 0); }

}  // namespace hotline
