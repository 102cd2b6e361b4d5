// The editors' review commands: gaps (questions the knowledge base could not answer), the Q&A
// drafts proposed from agents' confirmations (accept or dismiss), feedback on a search, and the
// knowledge base's statistics.
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/hotlinectl/client_util.h"
#include "services/hotlinectl/kb_command_parts.h"

ABSL_FLAG(std::string, order, "frequency", "gaps: frequency (most asked first) or newest");
ABSL_FLAG(std::string, since, "",
          "gaps: count occurrences from this time on (default: the last 30 days)");
ABSL_FLAG(std::string, search_id, "", "feedback: the search judged (search --json prints it)");
ABSL_FLAG(std::string, passage, "", "feedback: label of the passage judged, e.g. 第十条");
ABSL_FLAG(std::string, draft_state, "pending", "drafts: pending, accepted or dismissed");
ABSL_FLAG(std::string, qa_question, "", "accept-draft: the question as the editor words it");
ABSL_FLAG(std::string, qa_answer, "",
          "accept-draft: the answer as the editor words it (empty: the passage's text)");
ABSL_FLAG(std::string, qa_id, "", "accept-draft: the new Q&A entry's id (empty: derived)");
ABSL_FLAG(std::string, dismiss_reason, "", "dismiss-draft: why");

namespace hotline::cli::kb_parts {

// ---------------------------------------------------------------------------
// gaps

int RunGaps(const std::vector<std::string>&) {
  v1::ListGapsRequest request;
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  std::string order = absl::AsciiStrToLower(absl::GetFlag(FLAGS_order));
  if (order == "frequency") {
    request.set_order_by(v1::GAP_ORDER_MOST_FREQUENT_FIRST);
  } else if (order == "newest") {
    request.set_order_by(v1::GAP_ORDER_NEWEST_FIRST);
  } else {
    return ReportUsageError(
        absl::StrCat("--order: unknown order '", order, "'; valid: frequency, newest"),
        HelpCommand("gaps"));
  }
  if (std::string since = absl::GetFlag(FLAGS_since); !since.empty()) {
    absl::StatusOr<absl::Time> start = ParseTime(since, DateMeans::kStartOfDay);
    if (!start.ok()) {
      return ReportUsageError(absl::StrCat("--since: ", start.status().message()),
                              HelpCommand("gaps"));
    }
    *request.mutable_start_time() = ToProtoTime(*start);
  }
  v1::ListGapsResponse response;
  if (int failed = CallKb(&Stub::ListGaps, request, &response)) return failed;
  if (Json()) return PrintJson(response);
  if (response.gaps().empty()) {
    std::cout << "没有知识缺口\n";
    return kExitOk;
  }
  std::cout << absl::StrFormat("%5s  %-10s %-16s  %s\n", "次数", "原因", "最近", "问题");
  for (const v1::Gap& g : response.gaps()) {
    std::cout << absl::StrFormat("%5d  %-10s %-16s  %s", g.count(), GapReasonLabel(g.reason()),
                                 FormatTimestamp(g.last_seen_time()), OneLine(g.question(), 60));
    if (g.principal_count() > 1) std::cout << "  (" << g.principal_count() << " 人)";
    if (g.sample_queries_size() > 1) {
      std::cout << "  又作: " << OneLine(absl::StrJoin(g.sample_queries(), "；"), 40);
    }
    std::cout << "\n";
  }
  std::cout << "共 " << response.total_size() << " 个\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// drafts, accept-draft, dismiss-draft

void PrintDraft(const v1::QaDraft& d) {
  std::cout << d.id() << "  " << d.confirmations() << " 个问题确认  " << d.source_title() << " "
            << d.source_passage_label() << " (" << d.source_entry_id() << ")\n";
  std::cout << "  问: " << OneLine(d.question(), 80) << "\n";
  for (const std::string& q : d.similar_questions()) std::cout << "     " << OneLine(q, 80) << "\n";
  std::cout << "  依据: " << OneLine(d.passage_text(), 120) << "\n";
  if (!d.accepted_entry_id().empty()) std::cout << "  已采纳为 " << d.accepted_entry_id() << "\n";
  if (!d.dismiss_reason().empty()) std::cout << "  未采纳: " << d.dismiss_reason() << "\n";
}

int RunDrafts(const std::vector<std::string>&) {
  v1::ListQaDraftsRequest request;
  v1::QaDraftState state;
  if (!v1::QaDraftState_Parse(
          "QA_DRAFT_STATE_" + absl::AsciiStrToUpper(absl::GetFlag(FLAGS_draft_state)), &state)) {
    return ReportUsageError("--draft_state: pending, accepted or dismissed", HelpCommand("drafts"));
  }
  request.set_state(state);
  v1::ListQaDraftsResponse response;
  if (int failed = CallKb(&Stub::ListQaDrafts, request, &response)) return failed;
  if (Json()) return PrintJson(response);
  if (response.drafts().empty()) std::cout << "没有问答草稿\n";
  for (const v1::QaDraft& d : response.drafts()) PrintDraft(d);
  return kExitOk;
}

int RunAcceptDraft(const std::vector<std::string>& operands) {
  v1::AcceptQaDraftRequest request;
  absl::StatusOr<std::string> request_id = NewRequestId();
  if (!request_id.ok()) return ReportError(request_id.status());
  request.set_request_id(*request_id);
  request.set_draft_id(operands[0]);
  request.set_question(absl::GetFlag(FLAGS_qa_question));
  request.set_answer(absl::GetFlag(FLAGS_qa_answer));
  request.set_entry_id(absl::GetFlag(FLAGS_qa_id));
  v1::AcceptQaDraftResponse response;
  if (int failed = CallKb(&Stub::AcceptQaDraft, request, &response)) return failed;
  if (Json()) return PrintJson(response);
  std::cout << "已创建问答 " << response.entry().id() << "：" << response.entry().title() << "\n";
  return kExitOk;
}

int RunDismissDraft(const std::vector<std::string>& operands) {
  v1::DismissQaDraftRequest request;
  request.set_draft_id(operands[0]);
  request.set_reason(absl::GetFlag(FLAGS_dismiss_reason));
  v1::QaDraft response;
  if (int failed = CallKb(&Stub::DismissQaDraft, request, &response)) return failed;
  if (Json()) return PrintJson(response);
  PrintDraft(response);
  return kExitOk;
}

// ---------------------------------------------------------------------------
// feedback, stats

int RunFeedback(const std::vector<std::string>& operands) {
  absl::StatusOr<v1::FeedbackType> type = ParseFeedbackType(operands[0]);
  if (!type.ok()) return ReportUsageError(type.status().message(), HelpCommand("feedback"));
  if (operands.size() < 2)
    return ReportUsageError("feedback: the QUERY is missing", HelpCommand("feedback"));
  if (operands.size() > 3) {
    return ReportUsageError(absl::StrCat("feedback: unexpected argument '", operands[3], "'"),
                            HelpCommand("feedback"));
  }
  v1::RecordFeedbackRequest request;
  absl::StatusOr<std::string> request_id = NewRequestId();
  if (!request_id.ok()) return ReportError(request_id.status());
  request.set_request_id(*request_id);
  request.set_type(*type);
  request.set_query(operands[1]);
  if (operands.size() == 3) request.set_entry_id(operands[2]);
  request.set_search_id(absl::GetFlag(FLAGS_search_id));
  request.set_passage_label(absl::GetFlag(FLAGS_passage));
  request.set_comment(absl::GetFlag(FLAGS_comment));
  v1::RecordFeedbackResponse response;
  if (int failed = CallKb(&Stub::RecordFeedback, request, &response)) return failed;
  if (Json()) return PrintJson(response);
  std::cout << "已记录反馈 " << response.feedback_id()
            << (response.replaced_previous() ? "（替换了之前的反馈）" : "") << "\n";
  return kExitOk;
}

int RunStats(const std::vector<std::string>&) {
  v1::StatsResponse s;
  if (int failed = CallKb(&Stub::Stats, v1::StatsRequest(), &s)) return failed;
  if (Json()) return PrintJson(s);
  std::cout << "条目 " << s.total_entries() << "（有效 " << s.active_entries() << "） · 段落 "
            << s.total_passages() << "（有效 " << s.active_passages() << "） · 知识缺口 "
            << s.open_gaps() << "\n";
  for (const v1::EntryCount& c : s.entry_counts()) {
    std::cout << absl::StrFormat("  %-8s %-8s %d\n", KindLabel(c.kind()), StatusLabel(c.status()),
                                 c.count());
  }
  std::cout << "来源:\n";
  for (const v1::SourceStats& src : s.sources()) {
    std::cout << absl::StrFormat("  %-28s %6d 条, %d 次导入, 最近 %s\n", src.source_name(),
                                 src.entry_count(), src.import_count(),
                                 FormatTimestamp(src.last_import_time()));
  }
  return kExitOk;
}

}  // namespace hotline::cli::kb_parts
