// What the knowledge-base commands' files share (kb_commands.cc, kb_import_command.cc,
// kb_review_commands.cc; defined in kb_command_parts.cc): the connection, the help hints, the
// output mode and the labels staff read. Not part of the commands' interface.
#ifndef HOTLINE_SERVICES_HOTLINECTL_KB_COMMAND_PARTS_H_
#define HOTLINE_SERVICES_HOTLINECTL_KB_COMMAND_PARTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hotline/kb/v1/kb.grpc.pb.h"
#include "services/hotlinectl/client_util.h"

ABSL_DECLARE_FLAG(std::string, region);

namespace hotline::cli::kb_parts {

namespace v1 = ::hotline::kb::v1;
using Stub = v1::KnowledgeBaseService::Stub;

// The help command to point at after a usage error: "help import" or "kb help import".
std::string HelpCommand(absl::string_view command);
// --json: print response messages as JSON.
bool Json();
// A stub for --kb with the command line's credentials.
absl::StatusOr<std::unique_ptr<Stub>> KbStub();

// Enum values as hotline staff read them, and parsing them back.
constexpr char kBold[] = "\x1b[1m";
constexpr char kReset[] = "\x1b[0m";

std::string KindLabel(v1::EntryKind kind);

std::string StatusLabel(v1::EntryStatus status);

std::string GapReasonLabel(v1::GapReason reason);

std::string RelationLabel(v1::LinkRelation relation);

std::string ChannelLabel(int channel);

absl::StatusOr<v1::EntryKind> ParseKind(absl::string_view text);

absl::StatusOr<v1::FeedbackType> ParseFeedbackType(absl::string_view text);

bool StdoutIsTerminal();

// `text` with the code-point ranges marked: bold on a terminal, 【】 elsewhere, so that the
// match stays visible in a log or a pipe.
std::string Highlight(const std::string& text,
                      const google::protobuf::RepeatedPtrField<v1::TextRange>& ranges,
                      bool terminal);

// "[已废止]" for an inactive entry, "[尚未生效, 2026-05-01 起施行]", or "".
std::string StatusFlag(v1::EntryStatus status, bool inactive, const std::string& effective);

std::string LinkLine(const v1::EntryLink& link);

// --json: the response as proto JSON on one line.
int PrintJson(const google::protobuf::Message& response);

// One unary call of the knowledge base with the command line's address and credentials: 0, or
// the exit code of its failure (reported).
template <typename Request, typename Response>
int CallKb(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
           const Request& request, Response* response) {
  absl::StatusOr<std::unique_ptr<Stub>> stub = KbStub();
  if (!stub.ok()) return ReportError(stub.status());
  grpc::ClientContext context;
  PrepareContext(&context);
  grpc::Status status = ((*stub).get()->*rpc)(&context, request, response);
  return status.ok() ? kExitOk : ReportError(status);
}

// `import FILE...` (kb_import_command.cc).
int RunImport(const std::vector<std::string>& files);
// gaps, drafts, accept-draft, dismiss-draft, feedback, stats (kb_review_commands.cc).
int RunGaps(const std::vector<std::string>& operands);
int RunDrafts(const std::vector<std::string>& operands);
int RunAcceptDraft(const std::vector<std::string>& operands);
int RunDismissDraft(const std::vector<std::string>& operands);
int RunFeedback(const std::vector<std::string>& operands);
int RunStats(const std::vector<std::string>& operands);

}  // namespace hotline::cli::kb_parts

#endif  // HOTLINE_SERVICES_HOTLINECTL_KB_COMMAND_PARTS_H_
