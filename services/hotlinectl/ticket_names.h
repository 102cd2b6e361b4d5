// Ticket enums as users type and read them in hotlinectl: a lowercase name for flags and
// columns, and the Chinese term hotline staff use in text output.
#ifndef HOTLINE_SERVICES_HOTLINECTL_TICKET_NAMES_H_
#define HOTLINE_SERVICES_HOTLINECTL_TICKET_NAMES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/repeated_field.h"

namespace hotline::cli::ticket_names {

struct EnumName {
  int value;
  const char* name;
  const char* label;
};

struct EnumTable {
  const char* proto_prefix;  // Full proto names ("TICKET_KIND_COMPLAINT") are accepted too.
  absl::Span<const EnumName> names;
};

extern const EnumTable kTicketStates;
extern const EnumTable kKinds;
extern const EnumTable kChannels;
extern const EnumTable kUrgencies;
extern const EnumTable kWarnings;
extern const EnumTable kWorkOrderRoles;
extern const EnumTable kWorkOrderStates;
extern const EnumTable kExtensionStates;
extern const EnumTable kCallbackResults;
extern const EnumTable kRoles;
extern const EnumTable kEventTypes;

// The enum flags, for the help's list of values.
struct EnumFlag {
  const char* flag;
  const EnumTable* table;
};
absl::Span<const EnumFlag> EnumFlags();

// "complaint"; "-" when unset.
std::string Name(const EnumTable& table, int value);
// "投诉 complaint"; "-" when unset.
std::string Show(const EnumTable& table, int value);
std::string ValueNames(const EnumTable& table);
// Accepts the lowercase name (with '-' or '_'), the Chinese term, or the proto name.
absl::StatusOr<int> ParseEnum(const EnumTable& table, absl::string_view flag,
                              absl::string_view text);
// The value of a single-valued enum flag; 0 (UNSPECIFIED) when empty.
absl::StatusOr<int> ParseEnumFlag(const EnumTable& table, absl::string_view flag,
                                  const std::string& value);
// Appends every value of a list flag (repeated or comma-separated).
absl::Status AddEnums(const EnumTable& table, absl::string_view flag, const std::string& value,
                      google::protobuf::RepeatedField<int>* out);

}  // namespace hotline::cli::ticket_names

#endif  // HOTLINE_SERVICES_HOTLINECTL_TICKET_NAMES_H_
