#include "services/hotlinectl/client_util.h"

#include <glog/logging.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "absl/algorithm/container.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"

ABSL_FLAG(std::string, kb, "127.0.0.1:50051", "address of the knowledge-base service");
ABSL_FLAG(std::string, ticket, "127.0.0.1:50052", "address of the ticket service");
ABSL_FLAG(std::string, metrics, "127.0.0.1:50053", "address of the metrics service");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM root certificates (a file, or the PEM text itself); enables TLS to the services");
ABSL_FLAG(std::string, token, "",
          "bearer token sent as `authorization: Bearer <token>` (usually from HOTLINE_TOKEN)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5), "deadline of each call");
ABSL_FLAG(bool, json, false, "print the responses as JSON (one line per message)");
ABSL_FLAG(
    std::string, kind, "",
    "ticket: kind of matter (诉求类型), list: repeatable; kb search: entry kinds (policy, qa, "
    "guide, hot_topic), repeatable");
ABSL_FLAG(std::string, category, "",
          "ticket: category path such as 城乡建设/物业管理 (create, confirm), list: a path prefix; "
          "kb search: category path prefixes, repeatable");
ABSL_FLAG(int32_t, page_size, 0,
          "list, events, kb search, kb gaps: at most this many per page (0: server default)");
ABSL_FLAG(std::string, comment, "",
          "ticket callback: what the citizen said; kb feedback: a remark for the editors");

namespace hotline::cli {
namespace {

std::set<std::string>& FlagsSeen() {
  static auto* seen = new std::set<std::string>;
  return *seen;
}

// Flags defined in this program's sources (as opposed to absl's own --help, --flagfile...).
bool IsProgramFile(absl::string_view filename) {
  return absl::StrContains(filename, "hotlinectl/");
}

std::string& MutableProgramName() {
  static auto* name = new std::string("hotlinectl");
  return *name;
}

[[noreturn]] void ExitWithUsageError(absl::string_view message) {
  std::cerr << ProgramName() << ": " << message << "; see " << ProgramName() << " --help\n";
  std::exit(kExitUsage);
}

// Handled by absl::ParseCommandLine itself rather than registered as flags.
constexpr absl::string_view kUsageFlags[] = {
    "help",   "helpfull",  "helpshort",       "helppackage",
    "helpon", "helpmatch", "only_check_args", "version"};

bool IsDigits(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), absl::ascii_isdigit);
}

}  // namespace

void SetProgramName(absl::string_view name) { MutableProgramName() = std::string(name); }

const std::string& ProgramName() { return MutableProgramName(); }

std::vector<std::string> PrepareCommandLine(int argc, char** argv,
                                            const std::set<std::string>& list_flags) {
  std::vector<std::string> out = {argv[0]};
  std::map<std::string, size_t> list_position;  // Where each list flag sits in `out`.
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      out.insert(out.end(), argv + i, argv + argc);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      out.emplace_back(arg);
      continue;
    }
    absl::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
    size_t equals = body.find('=');
    std::string name(body.substr(0, equals));
    std::optional<std::string> value;
    if (equals != absl::string_view::npos) value = std::string(body.substr(equals + 1));

    if (name == "version") {
      if (value.has_value()) {
        name = "expected_version";
      } else if (i + 1 < argc && IsDigits(argv[i + 1])) {
        name = "expected_version";
        value = argv[++i];
      }
    }
    if (absl::c_linear_search(kUsageFlags, name)) {  // absl's own, not in the flag registry.
      out.emplace_back(arg);
      continue;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    bool negated = false;
    if (flag == nullptr && absl::StartsWith(name, "no") && !value.has_value()) {
      flag = absl::FindCommandLineFlag(name.substr(2));
      negated = flag != nullptr && flag->IsOfType<bool>();
      if (!negated) flag = nullptr;
      if (negated) name = name.substr(2);
    }
    if (flag == nullptr) ExitWithUsageError(absl::StrCat("unknown flag --", name));
    if (!value.has_value() && !flag->IsOfType<bool>()) {
      if (i + 1 >= argc) ExitWithUsageError(absl::StrCat("--", name, " needs a value"));
      value = argv[++i];
    }
    if (value.has_value() && IsProgramFile(flag->Filename())) {
      // Parsed again by absl below; this only finds a bad value while we can still say
      // it is a usage error.
      std::string error;
      if (!flag->ParseFrom(*value, &error)) {
        ExitWithUsageError(absl::StrCat("--", name, "=", *value, ": ", error));
      }
    }
    FlagsSeen().insert(name);

    if (list_flags.count(name) > 0 && value.has_value()) {
      auto [it, first] = list_position.emplace(name, out.size());
      if (!first) {
        absl::StrAppend(&out[it->second], ",", *value);
        continue;
      }
    }
    if (negated) {
      out.push_back(absl::StrCat("--no", name));
    } else if (value.has_value()) {
      out.push_back(absl::StrCat("--", name, "=", *value));
    } else {
      out.push_back(absl::StrCat("--", name));
    }
  }
  return out;
}

bool FlagOnCommandLine(absl::string_view name) { return FlagsSeen().count(std::string(name)) > 0; }

void ShowAllProgramFlagsInHelp() {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = IsProgramFile;
  config.contains_helpshort_flags = IsProgramFile;
  absl::SetFlagsUsageConfig(config);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const std::string& address) {
  std::string ca = absl::GetFlag(FLAGS_tls_ca);
  if (ca.empty()) return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  if (!absl::StrContains(ca, "-----BEGIN")) {
    std::ifstream file(ca, std::ios::binary);
    if (!file) return absl::NotFoundError(absl::StrCat("--tls_ca: cannot open '", ca, "'"));
    std::stringstream pem;
    pem << file.rdbuf();
    ca = pem.str();
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca;
  return grpc::CreateChannel(address, grpc::SslCredentials(options));
}

void PrepareContext(grpc::ClientContext* context, bool with_deadline) {
  std::string token(absl::StripAsciiWhitespace(absl::GetFlag(FLAGS_token)));
  if (!token.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  if (with_deadline) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  }
}

int ReportError(const absl::Status& status) {
  std::cerr << ProgramName() << ": " << absl::StatusCodeToString(status.code()) << ": "
            << status.message() << "\n";
  return kExitFailed;
}

int ReportError(const grpc::Status& status) { return ReportError(FromGrpcStatus(status)); }

int ReportUsageError(absl::string_view message, absl::string_view help_command) {
  std::cerr << ProgramName() << ": " << message << "; see " << ProgramName() << " " << help_command
            << "\n";
  return kExitUsage;
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  // Only invalid UTF-8 in a string field can fail, and the server sends valid protobuf.
  CHECK(status.ok()) << "cannot print " << message.GetTypeName() << " as JSON: " << status;
  return json;
}

absl::StatusOr<std::string> NewRequestId() {
  unsigned char bytes[16];
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  if (!urandom.read(reinterpret_cast<char*>(bytes), sizeof(bytes))) {
    return absl::UnavailableError("cannot read /dev/urandom for a request id; pass --request_id");
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // Version 4: random.
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // Variant 1 (RFC 4122).
  std::string hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20));
}

const absl::TimeZone& HotlineTimeZone() {
  static const absl::TimeZone* zone = [] {
    auto* loaded = new absl::TimeZone;
    if (!absl::LoadTimeZone("Asia/Shanghai", loaded)) *loaded = absl::FixedTimeZone(8 * 60 * 60);
    return loaded;
  }();
  return *zone;
}

std::string FormatLocalTime(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d %H:%M", time, HotlineTimeZone());
}

std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "-";
  return FormatLocalTime(FromProtoTime(timestamp));
}

absl::StatusOr<absl::Time> ParseTime(absl::string_view text, DateMeans date_means) {
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  absl::Time time;
  std::string ignored;
  if (absl::ParseTime(absl::RFC3339_full, trimmed, &time, &ignored)) return time;
  std::string civil = absl::StrReplaceAll(trimmed, {{" ", "T"}});
  const absl::TimeZone& zone = HotlineTimeZone();
  if (absl::CivilSecond second; absl::ParseCivilTime(civil, &second)) {
    return absl::FromCivil(second, zone);
  }
  if (absl::CivilMinute minute; absl::ParseCivilTime(civil, &minute)) {
    return absl::FromCivil(minute, zone);
  }
  if (absl::CivilDay day; absl::ParseCivilTime(civil, &day)) {
    if (date_means == DateMeans::kStartOfDay) return absl::FromCivil(day, zone);
    return absl::FromCivil(day + 1, zone) - absl::Milliseconds(1);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not a time; use 2024-05-15, '2024-05-15 18:00' or ",
                   "2024-05-15T18:00:00+08:00"));
}

std::vector<std::string> SplitList(absl::string_view value) {
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.emplace_back(item);
  }
  return items;
}

std::string OneLine(absl::string_view text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool starts_char = (c & 0xc0) != 0x80;  // Not a UTF-8 continuation byte.
    if (starts_char && max_chars > 0 && chars == max_chars) {
      out += "…";
      break;
    }
    if (starts_char) ++chars;
    if (c == '\r') continue;
    out += (c == '\n' || c == '\t') ? ' ' : static_cast<char>(c);
  }
  return out;
}

}  // namespace hotline::cli
