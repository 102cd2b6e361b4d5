// The knowledge-base commands. Each command is a row of one table (name, operands, flags, who may
// run it); help, the check that a command was given only its own flags and the usage summary are
// generated from it, as for the ticket commands.
//
// import streams the items of each file to Import in calls of at most --batch_size items (the
// server takes at most 50,000 per stream), reading the file as it sends, so a corpus of any size
// goes through in constant memory. Records the importers cannot read are reported with their line
// and are not sent; the server's per-item outcomes come back at the end of each call.
#include "services/hotlinectl/kb_commands.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "hotline/kb/v1/kb.grpc.pb.h"
#include "services/hotlinectl/client_util.h"
#include "services/hotlinectl/kb_command_parts.h"
#include "services/kb/importers/formats.h"
#include "services/kb/importers/source.h"

ABSL_FLAG(std::string, region, "",
          "import: region of the items that give none, e.g. 湖南/长沙; search: the caller's "
          "region: entries of it and of the regions above it up to 全国");
ABSL_FLAG(bool, include_inactive, false,
          "search: also amended, repealed and expired entries (flagged as such)");
ABSL_FLAG(std::string, mode, "",
          "search: full_text (ranked, the default) or keyword (every word must occur)");
namespace hotline::cli {

namespace {

using kb_parts::CallKb;
using kb_parts::ChannelLabel;
using kb_parts::HelpCommand;
using kb_parts::Highlight;
using kb_parts::Json;
using kb_parts::kBold;
using kb_parts::KbStub;
using kb_parts::KindLabel;
using kb_parts::kReset;
using kb_parts::LinkLine;
using kb_parts::ParseKind;
using kb_parts::PrintJson;
using kb_parts::RelationLabel;
using kb_parts::RunAcceptDraft;
using kb_parts::RunDismissDraft;
using kb_parts::RunDrafts;
using kb_parts::RunFeedback;
using kb_parts::RunGaps;
using kb_parts::RunImport;
using kb_parts::RunStats;
using kb_parts::StatusFlag;
using kb_parts::StatusLabel;
using kb_parts::StdoutIsTerminal;

namespace v1 = ::hotline::kb::v1;
namespace importers = ::hotline::kb::importers;
using Stub = v1::KnowledgeBaseService::Stub;

// How the user calls these commands, for hints: "kbctl " or "hotlinectl kb ".
std::string& HelpPrefix() {
  static auto* prefix = new std::string;
  return *prefix;
}

// ---------------------------------------------------------------------------
// search

void PrintHit(int rank, const v1::SearchHit& hit, bool terminal) {
  std::string title = Highlight(hit.title(), hit.title_highlights(), terminal);
  std::cout << rank << ". " << StatusFlag(hit.status(), hit.inactive(), hit.effective_date())
            << title;
  if (!hit.doc_number().empty()) std::cout << "  " << hit.doc_number();
  std::cout << "  [" << KindLabel(hit.kind()) << "]\n";
  std::vector<std::string> facts;
  if (!hit.issuing_agencies().empty()) facts.push_back(absl::StrJoin(hit.issuing_agencies(), "、"));
  if (!hit.publish_date().empty()) facts.push_back(absl::StrCat("发布 ", hit.publish_date()));
  if (!hit.region().empty()) facts.push_back(hit.region());
  facts.push_back(hit.entry_id());
  std::cout << "   " << absl::StrJoin(facts, " · ") << "\n";
  if (hit.inactive() && !hit.superseded_by().empty()) {
    std::cout << "   现行版本: " << hit.superseded_by() << "\n";
  }
  // The clause the hit comes from: its label and headings, then the snippet.
  std::string where = hit.passage_label();
  // A guide's section is its own heading; say it once.
  if (!hit.passage_headings().empty() && *hit.passage_headings().rbegin() != hit.passage_label()) {
    where =
        absl::StrCat(absl::StrJoin(hit.passage_headings(), " / "), where.empty() ? "" : " ", where);
  }
  if (!where.empty()) std::cout << "   【" << where << "】\n";
  if (hit.has_snippet()) {
    const v1::Snippet& s = hit.snippet();
    std::cout << "   " << (s.starts_mid_passage() ? "…" : "")
              << OneLine(Highlight(s.text(), s.highlights(), terminal))
              << (s.ends_mid_passage() ? "…" : "") << "\n";
  }
  if (hit.has_answer_source()) std::cout << "   出处: " << LinkLine(hit.answer_source()) << "\n";
  if (!hit.online_service_url().empty())
    std::cout << "   网上办理: " << hit.online_service_url() << "\n";
  const v1::LookAskDo& lad = hit.look_ask_do();
  for (const v1::EntryLink& l : lad.policies()) std::cout << "   看 " << LinkLine(l) << "\n";
  for (const v1::EntryLink& l : lad.qa_pairs()) std::cout << "   问 " << LinkLine(l) << "\n";
  for (const v1::EntryLink& l : lad.service_guides()) std::cout << "   办 " << LinkLine(l) << "\n";
}

int RunSearch(const std::vector<std::string>& operands) {
  v1::SearchRequest request;
  request.set_query(absl::StrJoin(operands, " "));
  for (const std::string& k : SplitList(absl::GetFlag(FLAGS_kind))) {
    absl::StatusOr<v1::EntryKind> kind = ParseKind(k);
    if (!kind.ok()) return ReportUsageError(kind.status().message(), HelpCommand("search"));
    request.mutable_filter()->add_kinds(*kind);
  }
  request.mutable_filter()->set_applicable_region(absl::GetFlag(FLAGS_region));
  for (const std::string& c : SplitList(absl::GetFlag(FLAGS_category))) {
    request.mutable_filter()->add_category_prefixes(c);
  }
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_include_inactive(absl::GetFlag(FLAGS_include_inactive));
  if (std::string mode = absl::AsciiStrToLower(absl::GetFlag(FLAGS_mode)); mode == "keyword") {
    request.set_mode(v1::SEARCH_MODE_KEYWORD);
  } else if (mode == "full_text" || mode == "full-text") {
    request.set_mode(v1::SEARCH_MODE_FULL_TEXT);
  } else if (!mode.empty()) {
    return ReportUsageError("--mode: full_text or keyword", HelpCommand("search"));
  }
  // As the agent console does: at most two passages of one law, so that more documents show.
  request.set_max_hits_per_entry(2);
  v1::SearchResponse response;
  if (int failed = CallKb(&Stub::Search, request, &response)) return failed;
  if (Json()) return PrintJson(response);
  if (response.hits().empty()) {
    std::cout << "没有找到「" << request.query() << "」的结果";
    if (!request.include_inactive()) std::cout << "（--include_inactive 可查已失效条目）";
    std::cout << "\n";
    return kExitOk;
  }
  std::cout << "「" << request.query() << "」共 " << response.total_size()
            << (response.total_size_is_estimate() ? "+" : "") << " 条结果，"
            << response.total_entries()
            << " 个条目；检索词: " << absl::StrJoin(response.query_terms(), " ") << "\n\n";
  const bool terminal = StdoutIsTerminal();
  int rank = 0;
  for (const v1::SearchHit& hit : response.hits()) {
    PrintHit(++rank, hit, terminal);
    std::cout << "\n";
  }
  std::cout << "search_id " << response.search_id() << "\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// get

void PrintBody(const v1::Entry& e) {
  auto field = [](absl::string_view label, const std::string& value) {
    if (!value.empty()) std::cout << label << ": " << value << "\n";
  };
  switch (e.body_case()) {
    case v1::Entry::kPolicyDocument: {
      const v1::PolicyDocument& p = e.policy_document();
      field("文号", p.doc_number());
      field("发文机关", absl::StrJoin(p.issuing_agencies(), "、"));
      field("效力级别", p.level_text());
      field("发布日期", p.publish_date());
      field("施行日期", p.effective_date());
      field("有效期至", p.expiry_date());
      field("简称", p.short_title());
      break;
    }
    case v1::Entry::kQaPair: {
      const v1::QaPair& q = e.qa_pair();
      field("问", q.question());
      field("相似问法", absl::StrJoin(q.alternative_questions(), "；"));
      field("答", q.answer());
      if (!q.source_document_id().empty()) {
        std::cout << "出处: " << StatusFlag(q.source_document_status(), false, "")
                  << q.source_document_title() << " " << q.source_passage_label() << "  ("
                  << q.source_document_id() << ")\n";
      }
      if (!q.source_passage_text().empty()) std::cout << "  " << q.source_passage_text() << "\n";
      break;
    }
    case v1::Entry::kServiceGuide: {
      const v1::ServiceGuide& g = e.service_guide();
      field("事项名称", g.matter_name());
      field("实施主体", g.responsible_department());
      field("服务对象", absl::StrJoin(g.audiences(), "、"));
      field("受理条件", g.conditions());
      if (!g.materials().empty()) {
        std::cout << "申请材料:\n";
        for (const v1::ServiceMaterial& m : g.materials()) {
          std::cout << "  - " << m.name()
                    << (m.form().empty() ? "" : absl::StrCat("（", m.form(), "）"))
                    << (m.required() ? "" : " [按情况]")
                    << (m.note().empty() ? "" : absl::StrCat(" ", m.note())) << "\n";
        }
      }
      field("办理流程", g.procedure());
      field("办理时限", g.time_limit_note());
      field("收费", g.free_of_charge() ? "不收费" : g.fee_description());
      std::vector<std::string> channels;
      for (int c : g.channels()) channels.push_back(ChannelLabel(c));
      field("办理渠道", absl::StrJoin(channels, "、"));
      field("网上办理", g.online_service_url());
      for (const v1::ServiceLocation& l : g.locations()) {
        std::cout << "办理地点: " << l.name() << " " << l.address() << " " << l.opening_hours()
                  << " " << l.phone() << "\n";
      }
      field("咨询电话", g.consultation_phone());
      break;
    }
    case v1::Entry::kHotTopic: {
      const v1::HotTopic& h = e.hot_topic();
      field("答复口径", h.reply_script());
      field("典型问题", absl::StrJoin(h.sample_questions(), "；"));
      field("提供部门", h.issuing_department());
      field("有效期", h.valid_from().empty() && h.valid_until().empty()
                          ? ""
                          : absl::StrCat(h.valid_from(), " 至 ", h.valid_until()));
      break;
    }
    default:
      break;
  }
}

int RunGet(const std::vector<std::string>& operands) {
  v1::GetEntryRequest request;
  request.set_entry_id(operands[0]);
  request.set_view(v1::ENTRY_VIEW_FULL);
  v1::Entry e;
  if (int failed = CallKb(&Stub::GetEntry, request, &e)) return failed;
  if (Json()) return PrintJson(e);
  std::cout << StatusFlag(e.status(), e.inactive(), "") << e.title() << "\n";
  std::cout << e.id() << " · " << KindLabel(e.kind()) << " · " << StatusLabel(e.status())
            << " · 版本 " << e.version() << " · " << e.region()
            << (e.category_path().empty() ? "" : absl::StrCat(" · ", e.category_path())) << "\n";
  if (!e.superseded_by().empty()) std::cout << "现行版本: " << e.superseded_by() << "\n";
  if (!e.supersedes().empty()) std::cout << "替代: " << absl::StrJoin(e.supersedes(), ", ") << "\n";
  if (!e.tags().empty()) std::cout << "标签: " << absl::StrJoin(e.tags(), "、") << "\n";
  PrintBody(e);
  if (!e.passages().empty() && e.kind() == v1::ENTRY_KIND_POLICY_DOCUMENT) {
    std::cout << "\n正文 (" << e.passages_size() << " 段):\n";
    std::string last_headings;
    for (const v1::Passage& p : e.passages()) {
      std::string headings = absl::StrJoin(p.headings(), " / ");
      if (!headings.empty() && headings != last_headings) std::cout << "  " << headings << "\n";
      last_headings = headings;
      std::cout << "  " << p.text() << "\n";
    }
  }
  if (!e.links().empty()) {
    std::cout << "\n关联 (看、问、办):\n";
    for (const v1::EntryLink& l : e.links()) {
      std::cout << "  " << RelationLabel(l.relation()) << " [" << KindLabel(l.target_kind()) << "] "
                << LinkLine(l) << (l.note().empty() ? "" : absl::StrCat("  ", l.note())) << "\n";
    }
  }
  if (!e.status_history().empty()) {
    std::cout << "\n状态变更:\n";
    for (const v1::StatusChange& c : e.status_history()) {
      std::cout << "  " << (c.effective_date().empty() ? "-" : c.effective_date()) << "  "
                << StatusLabel(c.from_status()) << " → " << StatusLabel(c.to_status()) << "  "
                << c.changed_by() << (c.reason().empty() ? "" : absl::StrCat("  ", c.reason()))
                << (c.basis_doc_number().empty() ? "" : absl::StrCat("  ", c.basis_doc_number()))
                << "\n";
    }
  }
  if (e.has_pending_status_change()) {
    const v1::StatusChange& c = e.pending_status_change();
    std::cout << "待生效: " << c.effective_date() << " → " << StatusLabel(c.to_status()) << "\n";
  }
  if (!e.sources().empty()) {
    std::cout << "\n来源:\n";
    for (const v1::SourceReference& s : e.sources()) {
      std::cout << "  " << s.source_name()
                << (s.source_id().empty() ? "" : absl::StrCat(" ", s.source_id()))
                << (s.merged_duplicate()
                        ? absl::StrFormat(" (合并的重复件, 相似度 %.2f)", s.similarity())
                        : "")
                << (s.url().empty() ? "" : absl::StrCat("  ", s.url())) << "  "
                << FormatTimestamp(s.import_time()) << "\n";
    }
  }
  if (!e.merged_ids().empty())
    std::cout << "合并的条目: " << absl::StrJoin(e.merged_ids(), ", ") << "\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// The command table and help.

struct Command {
  const char* name;
  std::string synopsis;
  std::string summary;
  std::string brief;  // For the program's list of commands.
  const char* roles;
  size_t min_operands;
  size_t max_operands;  // SIZE_MAX: any number
  std::vector<std::string> flags;
  std::function<int(const std::vector<std::string>&)> run;
};

const std::vector<Command>& Commands() {
  static const auto* commands = new std::vector<Command>{
      {"import",
       absl::StrCat("FILE... [--source=NAME] [--format=", importers::SourceFormatNames(),
                    "] [--region=REGION] [--dry_run] [--batch_size=N]"),
       absl::StrCat("import files or directories of pages, showing progress, then each file's "
                    "outcomes; re-importing a file brings back UNCHANGED and DUPLICATE. Rejected "
                    "items do not change the exit status; a failed call or a file that cannot be "
                    "opened does. Formats (--format, or from each file's name): ",
                    absl::StrJoin(importers::SourceFormats(), "; ",
                                  [](std::string* out, const importers::SourceFormat& f) {
                                    absl::StrAppend(out, f.name, ": ", f.summary);
                                  })),
       absl::StrCat("import ", importers::SourceFormatNames(),
                    " sources with progress and a summary"),
       "editor, admin",
       1,
       SIZE_MAX,
       {"source", "format", "region", "dry_run", "batch_size"},
       RunImport},
      {"search",
       "QUERY... [--kind=K]... [--region=REGION] [--category=PREFIX]... "
       "[--page_size=N] [--include_inactive] [--mode=full_text|keyword]",
       "search as an agent does: each hit with its 文号, the clause it comes from, and the "
       "linked policies, Q&A pairs and service guides (看、问、办)",
       "search with sources, clauses and linked Q&A pairs and guides",
       "every role",
       1,
       SIZE_MAX,
       {"kind", "region", "category", "page_size", "include_inactive", "mode"},
       RunSearch},
      {"get",
       "ID",
       "show an entry with its passages, links, status history and sources",
       "show an entry with passages, links and status history",
       "every role",
       1,
       1,
       {},
       RunGet},
      {"gaps",
       "[--order=frequency|newest] [--since=TIME] [--page_size=N]",
       "list the knowledge gaps: questions that found nothing or nothing useful",
       "questions that found nothing or nothing useful",
       "editor, supervisor, admin",
       0,
       0,
       {"order", "since", "page_size"},
       RunGaps},
      {"feedback",
       "answered|not_helpful|no_answer QUERY [ENTRY_ID] [--search_id=ID] "
       "[--passage=LABEL] [--comment=TEXT]",
       "record whether a search answered the question (ENTRY_ID for answered and not_helpful)",
       "record whether a search answered the question",
       "agent, reviewer, editor, admin",
       2,
       3,
       {"search_id", "passage", "comment"},
       RunFeedback},
      {"drafts",
       "[--draft_state=pending|accepted|dismissed]",
       "list draft Q&A pairs proposed from agents' confirmations of one passage for several "
       "similar questions, most confirmed first",
       "draft Q&A pairs proposed from agents' confirmations",
       "editor, supervisor, admin",
       0,
       0,
       {"draft_state"},
       RunDrafts},
      {"accept-draft",
       "DRAFT_ID [--qa_question=TEXT] [--qa_answer=TEXT] [--qa_id=ID]",
       "accept a draft: creates the Q&A entry linked to its source clause",
       "accept a draft Q&A pair",
       "editor, admin",
       1,
       1,
       {"qa_question", "qa_answer", "qa_id"},
       RunAcceptDraft},
      {"dismiss-draft",
       "DRAFT_ID [--dismiss_reason=TEXT]",
       "dismiss a draft Q&A pair",
       "dismiss a draft Q&A pair",
       "editor, admin",
       1,
       1,
       {"dismiss_reason"},
       RunDismissDraft},
      {"stats",
       "",
       "entry counts by kind and status, passages, sources and their last imports",
       "entry counts, passages, sources and their last imports",
       "editor, supervisor, admin",
       0,
       0,
       {},
       RunStats},
  };
  return *commands;
}

const Command* FindCommand(absl::string_view name) {
  for (const Command& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

std::set<std::string> AllKbFlags() {
  std::set<std::string> flags;
  for (const Command& c : Commands()) flags.insert(c.flags.begin(), c.flags.end());
  return flags;
}

void PrintFlag(const std::string& name) {
  const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  std::cout << "  --" << name << ": " << (flag != nullptr ? flag->Help() : "") << "\n";
}

void PrintHelp(const Command* only) {
  const std::string& invoked = HelpPrefix();
  if (only != nullptr) {
    std::cout << "usage: " << invoked << only->name << " " << only->synopsis << "\n\n"
              << only->summary << ". Who: " << only->roles << ".\n";
    if (!only->flags.empty()) std::cout << "\nFlags:\n";
    for (const std::string& f : only->flags) PrintFlag(f);
  } else {
    std::cout
        << "usage: " << invoked << "COMMAND [ARGS] [flags]\n\n"
        << "The client of the knowledge-base service (hotline.kb.v1.KnowledgeBaseService).\n\n";
    for (const Command& c : Commands()) {
      std::cout << "  " << c.name << " " << c.synopsis << "\n      " << c.summary
                << ". Who: " << c.roles << ".\n";
    }
    std::cout << "\nFlags of the commands:\n";
    for (const std::string& f : AllKbFlags()) PrintFlag(f);
  }
  std::cout << "\nGlobal flags: --kb=HOST:PORT (the service), --token=TOKEN (or HOTLINE_TOKEN), "
               "--timeout=5s, --tls_ca=FILE, --json (the responses as JSON, one line each). Flags "
               "also come from HOTLINE_<FLAG> environment variables. TIME is 2024-05-15, "
               "'2024-05-15 18:00' or RFC 3339, in Asia/Shanghai. CSV columns, JSON fields and "
               "HTML metadata: services/kb/importers/README.md.\n";
}

}  // namespace

std::set<std::string> KbListFlags() { return {"kind", "category"}; }

std::string KbCommandSummary(absl::string_view prefix) {
  std::string out;
  for (const Command& c : Commands()) {
    absl::StrAppend(&out, absl::StrFormat("  %-24s %s\n", absl::StrCat(prefix, c.name), c.brief));
  }
  return out;
}

std::string KbCommandAskingForHelp(int argc, char** argv, int from) {
  const Command* command = nullptr;
  for (int i = from; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (command == nullptr) {
      command = FindCommand(arg);
    } else if (arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpshort") {
      return command->name;
    }
  }
  return "";
}

int RunKbCommand(const std::vector<std::string>& args, absl::string_view invoked_as) {
  HelpPrefix() = absl::StrCat(invoked_as, " ");
  if (args.empty()) return ReportUsageError("the COMMAND is missing", HelpCommand(""));
  if (args[0] == "help") {
    const Command* only = nullptr;
    if (args.size() > 1) {
      only = FindCommand(args[1]);
      if (only == nullptr) {
        return ReportUsageError(absl::StrCat("no kb command '", args[1], "'"), HelpCommand(""));
      }
    }
    PrintHelp(only);
    return kExitOk;
  }
  const Command* command = FindCommand(args[0]);
  if (command == nullptr) {
    return ReportUsageError(absl::StrCat("no kb command '", args[0], "'"), HelpCommand(""));
  }
  std::vector<std::string> operands(args.begin() + 1, args.end());
  if (operands.size() < command->min_operands) {
    return ReportUsageError(absl::StrCat(command->name, ": missing argument; usage: ",
                                         command->name, " ", command->synopsis),
                            HelpCommand(command->name));
  }
  if (operands.size() > command->max_operands) {
    return ReportUsageError(absl::StrCat(command->name, ": unexpected argument '",
                                         operands[command->max_operands], "'"),
                            HelpCommand(command->name));
  }
  // A kb flag this command does not read is a mistake (a typo or the wrong command).
  for (const std::string& flag : AllKbFlags()) {
    if (FlagOnCommandLine(flag) && !absl::c_linear_search(command->flags, flag)) {
      return ReportUsageError(absl::StrCat(command->name, " does not take --", flag),
                              HelpCommand(command->name));
    }
  }
  return command->run(operands);
}

}  // namespace hotline::cli
