// Reading the ticket service's configuration (ticket_config.proto in protobuf text format):
// parse errors name the line, and what the service needs is checked before it starts.
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "services/ticket/ticket_service.h"

namespace hotline::ticket {
namespace {

// Collects protobuf text-format parse errors so the message can name the line.
class ConfigErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first.empty()) first = absl::StrCat("line ", line + 1, ":", column + 1, ": ", message);
  }
  std::string first;
};

}  // namespace

absl::StatusOr<config::TicketConfig> ParseTicketConfig(const std::string& text) {
  config::TicketConfig config;
  google::protobuf::TextFormat::Parser parser;
  ConfigErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &config)) {
    return absl::InvalidArgumentError(absl::StrCat("ticket configuration: ", errors.first));
  }
  auto check_limit = [](const config::Limit& l, absl::string_view name) -> absl::Status {
    if ((l.limit_case() == config::Limit::kWorkingDays && l.working_days() >= 1) ||
        (l.limit_case() == config::Limit::kHours && l.hours() >= 1)) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(
        absl::StrCat("ticket configuration: ", name, ": must be a positive working_days or hours"));
  };
  RETURN_IF_ERROR(check_limit(config.sign_window(), "sign_window"));
  RETURN_IF_ERROR(check_limit(config.return_window(), "return_window"));
  if (config.has_emergency_sign_window()) {
    RETURN_IF_ERROR(check_limit(config.emergency_sign_window(), "emergency_sign_window"));
  }
  for (int i = 0; i < config.limits_size(); ++i) {
    RETURN_IF_ERROR(check_limit(config.limits(i).limit(), absl::StrCat("limits[", i, "]")));
  }
  if (config.departments_size() == 0) {
    return absl::InvalidArgumentError("ticket configuration: no departments");
  }
  std::set<std::string> departments;
  for (const config::Department& d : config.departments()) departments.insert(d.id());
  for (int i = 0; i < config.category_routes_size(); ++i) {
    const v1::CategoryRoute& route = config.category_routes(i);
    const std::string where = absl::StrCat("ticket configuration: category_routes[", i, "]");
    if (route.category_prefix().empty() || route.department_ids_size() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": needs a category_prefix and at least one department_ids"));
    }
    for (const std::string& id : route.department_ids()) {
      if (departments.count(id) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": unknown department '", id, "'"));
      }
    }
  }
  std::set<std::string> codes;
  for (int i = 0; i < config.districts_size(); ++i) {
    const v1::District& d = config.districts(i);
    if (d.code().size() != 6 || d.code().find_first_not_of("0123456789") != std::string::npos ||
        d.name().empty() || !codes.insert(d.code()).second) {
      return absl::InvalidArgumentError(absl::StrCat("ticket configuration: districts[", i,
                                                     "]: needs a unique 6-digit code and a name"));
    }
  }
  if (config.repeat_call_window_days() < 0 || config.duplicate_window_days() < 0) {
    return absl::InvalidArgumentError(
        "ticket configuration: repeat_call_window_days and duplicate_window_days must not be "
        "negative");
  }
  if (config.repeat_call_window_days() == 0) config.set_repeat_call_window_days(30);
  if (config.duplicate_window_days() == 0) config.set_duplicate_window_days(7);
  if (config.stream_key().empty()) config.set_stream_key("hotline:ticket:events");
  return config;
}

absl::StatusOr<config::TicketConfig> LoadTicketConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path, "ticket configuration");
  if (!text.ok()) return text.status();
  absl::StatusOr<config::TicketConfig> config = ParseTicketConfig(*text);
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace hotline::ticket
