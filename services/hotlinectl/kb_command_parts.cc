#include "services/hotlinectl/kb_command_parts.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/program.h"

namespace hotline::cli::kb_parts {

std::string HelpCommand(absl::string_view command) {
  // ReportUsageError prefixes the program name; hotlinectl's commands sit under "kb".
  std::string sub = ProgramName() == "kbctl" ? "" : "kb ";
  return command.empty() ? absl::StrCat(sub, "help") : absl::StrCat(sub, "help ", command);
}

bool Json() { return absl::GetFlag(FLAGS_json); }

absl::StatusOr<std::unique_ptr<Stub>> KbStub() {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = Connect(absl::GetFlag(FLAGS_kb));
  if (!channel.ok()) return channel.status();
  return v1::KnowledgeBaseService::NewStub(*channel);
}

// ---------------------------------------------------------------------------
// Enum values as hotline staff read them.

std::string KindLabel(v1::EntryKind kind) {
  switch (kind) {
    case v1::ENTRY_KIND_POLICY_DOCUMENT:
      return "政策文件";
    case v1::ENTRY_KIND_QA_PAIR:
      return "问答";
    case v1::ENTRY_KIND_SERVICE_GUIDE:
      return "办事指南";
    case v1::ENTRY_KIND_HOT_TOPIC:
      return "热点";
    default:
      return absl::StrCat("kind ", static_cast<int>(kind));  // Newer server.
  }
}

std::string StatusLabel(v1::EntryStatus status) {
  switch (status) {
    case v1::ENTRY_STATUS_IN_FORCE:
      return "现行有效";
    case v1::ENTRY_STATUS_AMENDED:
      return "已修改";
    case v1::ENTRY_STATUS_REPEALED:
      return "已废止";
    case v1::ENTRY_STATUS_EXPIRED:
      return "已失效";
    case v1::ENTRY_STATUS_NOT_YET_EFFECTIVE:
      return "尚未生效";
    case v1::ENTRY_STATUS_UNSPECIFIED:
      return "-";
    default:
      return absl::StrCat("status ", static_cast<int>(status));
  }
}

std::string GapReasonLabel(v1::GapReason reason) {
  switch (reason) {
    case v1::GAP_REASON_NO_HITS:
      return "无结果";
    case v1::GAP_REASON_ONLY_UNHELPFUL:
      return "结果无用";
    case v1::GAP_REASON_REPORTED_NO_ANSWER:
      return "报告无答案";
    default:
      return "-";
  }
}

std::string RelationLabel(v1::LinkRelation relation) {
  switch (relation) {
    case v1::LINK_RELATION_BASIS:
      return "依据";
    case v1::LINK_RELATION_DERIVED:
      return "派生";
    case v1::LINK_RELATION_RELATED:
      return "相关";
    default:
      return "-";
  }
}

std::string ChannelLabel(int channel) {
  switch (channel) {
    case v1::HANDLING_CHANNEL_ONLINE:
      return "网上办理";
    case v1::HANDLING_CHANNEL_MOBILE:
      return "掌上办";
    case v1::HANDLING_CHANNEL_WINDOW:
      return "窗口办理";
    case v1::HANDLING_CHANNEL_SELF_SERVICE_TERMINAL:
      return "自助办";
    case v1::HANDLING_CHANNEL_POST:
      return "邮寄办理";
    default:
      return "-";
  }
}

absl::StatusOr<v1::EntryKind> ParseKind(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  absl::string_view key = absl::StripPrefix(lower, "entry_kind_");
  if (key == "policy" || key == "policy_document" || text == "政策文件") {
    return v1::ENTRY_KIND_POLICY_DOCUMENT;
  }
  if (key == "qa" || key == "qa_pair" || text == "问答") return v1::ENTRY_KIND_QA_PAIR;
  if (key == "guide" || key == "service_guide" || text == "办事指南") {
    return v1::ENTRY_KIND_SERVICE_GUIDE;
  }
  if (key == "hot_topic" || text == "热点") return v1::ENTRY_KIND_HOT_TOPIC;
  return absl::InvalidArgumentError(
      absl::StrCat("--kind: unknown kind '", text, "'; valid: policy, qa, guide, hot_topic"));
}

absl::StatusOr<v1::FeedbackType> ParseFeedbackType(absl::string_view text) {
  std::string key(
      absl::StripPrefix(absl::AsciiStrToLower(absl::StripAsciiWhitespace(text)), "feedback_type_"));
  std::replace(key.begin(), key.end(), '-', '_');
  if (key == "answered") return v1::FEEDBACK_TYPE_ANSWERED;
  if (key == "not_helpful") return v1::FEEDBACK_TYPE_NOT_HELPFUL;
  if (key == "no_answer") return v1::FEEDBACK_TYPE_NO_ANSWER;
  return absl::InvalidArgumentError(
      absl::StrCat("feedback: unknown TYPE '", text, "'; valid: answered, not_helpful, no_answer"));
}

// ---------------------------------------------------------------------------
// Text output.

bool StdoutIsTerminal() { return isatty(fileno(stdout)) == 1; }

// `text` with the code-point ranges marked: bold on a terminal, 【】 elsewhere, so that the
// match stays visible in a log or a pipe.
std::string Highlight(const std::string& text,
                      const google::protobuf::RepeatedPtrField<v1::TextRange>& ranges,
                      bool terminal) {
  if (ranges.empty()) return text;
  std::vector<size_t> starts;  // Byte offset of each code point, then the end.
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) starts.push_back(i);
  }
  starts.push_back(text.size());
  auto byte_at = [&](int cp) {
    return starts[std::clamp<size_t>(static_cast<size_t>(std::max(cp, 0)), 0, starts.size() - 1)];
  };
  std::string out;
  size_t done = 0;
  for (const v1::TextRange& r : ranges) {
    size_t begin = byte_at(r.start()), end = byte_at(r.end());
    if (begin < done || end <= begin) continue;  // Malformed or overlapping: leave it plain.
    absl::StrAppend(&out, text.substr(done, begin - done), terminal ? kBold : "【",
                    text.substr(begin, end - begin), terminal ? kReset : "】");
    done = end;
  }
  out += text.substr(done);
  return out;
}

// "[已废止]" for an inactive entry, "[尚未生效, 2026-05-01 起施行]", or "".
std::string StatusFlag(v1::EntryStatus status, bool inactive, const std::string& effective) {
  if (status == v1::ENTRY_STATUS_NOT_YET_EFFECTIVE) {
    return effective.empty() ? "[尚未生效] " : absl::StrCat("[尚未生效，", effective, " 起施行] ");
  }
  if (!inactive) return "";
  return absl::StrCat("[", status == v1::ENTRY_STATUS_IN_FORCE ? "依据已失效" : StatusLabel(status),
                      "] ");
}

std::string LinkLine(const v1::EntryLink& link) {
  std::string line = absl::StrCat(StatusFlag(link.target_status(), link.target_inactive(), ""),
                                  link.target_title());
  if (!link.target_passage_label().empty())
    absl::StrAppend(&line, " ", link.target_passage_label());
  absl::StrAppend(&line, "  (", link.target_id(), ")");
  if (!link.target_online_service_url().empty()) {
    absl::StrAppend(&line, "  ", link.target_online_service_url());
  }
  return line;
}

// ---------------------------------------------------------------------------
// Calls.

// --json: the response as proto JSON on one line.
int PrintJson(const google::protobuf::Message& response) {
  std::cout << ToJson(response) << "\n";
  return kExitOk;
}

}  // namespace hotline::cli::kb_parts
