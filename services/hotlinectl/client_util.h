// What every hotlinectl command shares: the connection flags, channels and call contexts
// (bearer token, deadline), the command-line conventions (exit codes, error lines, JSON),
// request ids, and times shown and read in the hotline's time zone (Asia/Shanghai).
#ifndef HOTLINE_SERVICES_HOTLINECTL_CLIENT_UTIL_H_
#define HOTLINE_SERVICES_HOTLINECTL_CLIENT_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/proto_time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"

ABSL_DECLARE_FLAG(std::string, kb);
ABSL_DECLARE_FLAG(std::string, ticket);
ABSL_DECLARE_FLAG(std::string, metrics);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, token);
ABSL_DECLARE_FLAG(absl::Duration, timeout);
ABSL_DECLARE_FLAG(bool, json);
// Flags that both the ticket and the knowledge-base commands read, defined once for a program
// that links both.
ABSL_DECLARE_FLAG(std::string, kind);
ABSL_DECLARE_FLAG(std::string, category);
ABSL_DECLARE_FLAG(int32_t, page_size);
ABSL_DECLARE_FLAG(std::string, comment);

namespace hotline::cli {

// Exit codes of the program.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // The call (or a local step such as reading a file) failed.
inline constexpr int kExitUsage = 2;   // The command line was wrong; nothing was sent.

// The program's name in messages ("hotlinectl", "kbctl"); set once at the start of main().
void SetProgramName(absl::string_view name);
const std::string& ProgramName();

// Rewrites the command line before absl parses it and returns the new argv:
//   - `--version=N` and `--version N` (N digits) become `--expected_version=N`: absl owns
//     `--version` (a bool that prints the build), and "version" is what users of the ticket
//     API call the expected version.
//   - Every occurrence of a flag in `list_flags` is joined into one comma-separated value,
//     so such flags can be repeated (absl alone keeps only the last occurrence).
//   - An unknown flag, or a value absl would refuse, is a usage error: it is printed and the
//     program exits with kExitUsage (absl would exit with 1, the code of a failed call).
// Remembers which flags the command line named, for FlagOnCommandLine().
std::vector<std::string> PrepareCommandLine(int argc, char** argv,
                                            const std::set<std::string>& list_flags);

// Whether the command line (not the environment) named the flag. Flags that identify one
// operation (request id, expected version) are taken from the command line only.
bool FlagOnCommandLine(absl::string_view name);

// Makes `--help` describe every flag of this program, not only those of hotlinectl.cc.
void ShowAllProgramFlagsInHelp();

// A channel to `address`, with TLS when --tls_ca names a root-certificate file.
absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const std::string& address);

// Sets the bearer token (--token, or HOTLINE_TOKEN) and, when `with_deadline`, the deadline
// (--timeout) on a fresh context. Streams that run until Ctrl-C have no deadline.
void PrepareContext(grpc::ClientContext* context, bool with_deadline = true);

// Prints `hotlinectl: <CODE>: <message>` to stderr and returns kExitFailed.
int ReportError(const absl::Status& status);
int ReportError(const grpc::Status& status);

// Prints `hotlinectl: <message>` and a pointer to the help to stderr; returns kExitUsage.
int ReportUsageError(absl::string_view message, absl::string_view help_command);

// The message in the protobuf JSON mapping, on one line (so streams give JSON lines).
std::string ToJson(const google::protobuf::Message& message);

// A random UUID (version 4) from /dev/urandom, lowercase, e.g.
// "3f2b8c1e-7a4d-4e2f-9b1a-0c5d6e7f8a9b".
absl::StatusOr<std::string> NewRequestId();

// The hotline's time zone: Asia/Shanghai, or UTC+08:00 when tzdata is missing (China has
// no daylight saving time, so the two agree).
const absl::TimeZone& HotlineTimeZone();

// "2024-05-15 18:00" in the hotline's time zone; "-" for an unset timestamp.
std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp);
std::string FormatLocalTime(absl::Time time);

// How to read a bare date (no time of day).
enum class DateMeans { kStartOfDay, kEndOfDay };

// Reads "2024-05-15", "2024-05-15 18:00", "2024-05-15T18:00:30" (hotline time zone) or RFC
// 3339 with an offset ("2024-05-15T18:00:00+08:00", "...Z"). A bare date is the start of
// that day or, for deadlines, its end (23:59:59.999, as the ticket service counts days).
absl::StatusOr<absl::Time> ParseTime(absl::string_view text, DateMeans date_means);

// Splits a comma-separated flag value, dropping empty items and surrounding spaces.
std::vector<std::string> SplitList(absl::string_view value);

// The first `max_chars` characters of UTF-8 `text` (never cutting one in half), with
// newlines turned into spaces and "…" when shortened; for one-line displays of Chinese text.
std::string OneLine(absl::string_view text, size_t max_chars = 0);

}  // namespace hotline::cli

#endif  // HOTLINE_SERVICES_HOTLINECTL_CLIENT_UTIL_H_
