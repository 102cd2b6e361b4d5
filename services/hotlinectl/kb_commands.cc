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
#include "services/kb/importers/formats.h"
#include "services/kb/importers/source.h"

ABSL_FLAG(std::string, source, "",
          "import: the source name (ImportHeader.source_name: 1-64 of a-z 0-9 . _ -), by which a "
          "re-import recognises its entries; default: from each file's name, lawref for a "
          "LawRefBook export");
ABSL_FLAG(std::string, format, "",
          "import: the format of every file (kbctl help import lists them); default: from each "
          "file's name, and for a directory the kind of pages it holds");
ABSL_FLAG(bool, dry_run, false,
          "import: check and classify every item (duplicates, versions) without writing anything");
ABSL_FLAG(std::string, region, "",
          "import: region of the items that give none, e.g. 湖南/长沙; search: the caller's "
          "region: entries of it and of the regions above it up to 全国");
ABSL_FLAG(int32_t, batch_size, 10000,
          "import: items per Import call, 1-50000 (the server's limit per stream)");
ABSL_FLAG(bool, include_inactive, false,
          "search: also amended, repealed and expired entries (flagged as such)");
ABSL_FLAG(std::string, mode, "",
          "search: full_text (ranked, the default) or keyword (every word must occur)");
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

namespace hotline::cli {
namespace {

namespace v1 = ::hotline::kb::v1;
namespace importers = ::hotline::kb::importers;
using Stub = v1::KnowledgeBaseService::Stub;

// How the user calls these commands, for hints: "kbctl " or "hotlinectl kb ".
std::string& HelpPrefix() {
  static auto* prefix = new std::string;
  return *prefix;
}

std::string HelpCommand(absl::string_view command) {
  // ReportUsageError prefixes the program name; hotlinectl's commands sit under "kb".
  std::string sub = ProgramName() == "kbctl" ? "" : "kb ";
  return command.empty() ? absl::StrCat(sub, "help") : absl::StrCat(sub, "help ", command);
}

bool Json() { return absl::GetFlag(FLAGS_json); }

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

constexpr char kBold[] = "\x1b[1m";
constexpr char kReset[] = "\x1b[0m";

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

absl::StatusOr<std::unique_ptr<Stub>> KbStub() {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = Connect(absl::GetFlag(FLAGS_kb));
  if (!channel.ok()) return channel.status();
  return v1::KnowledgeBaseService::NewStub(*channel);
}

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

// --json: the response as proto JSON on one line.
int PrintJson(const google::protobuf::Message& response) {
  std::cout << ToJson(response) << "\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// import

struct Unreadable {
  std::string origin;
  std::string message;
};

// What happened to one file.
struct FileImport {
  std::string path;
  std::string source_name;
  bool dry_run = false;
  int calls = 0;
  std::vector<std::string> import_ids;
  v1::ImportTotals totals;
  // Results as returned (all of them, or only the exceptions for a large file), each with the
  // origin of its item.
  std::vector<std::pair<std::string, v1::ImportItemResult>> results;
  std::vector<Unreadable> unreadable;
};

void AddTotals(const v1::ImportTotals& add, v1::ImportTotals* to) {
  to->set_received(to->received() + add.received());
  to->set_created(to->created() + add.created());
  to->set_updated(to->updated() + add.updated());
  to->set_unchanged(to->unchanged() + add.unchanged());
  to->set_duplicates(to->duplicates() + add.duplicates());
  to->set_superseded(to->superseded() + add.superseded());
  to->set_created_superseded(to->created_superseded() + add.created_superseded());
  to->set_rejected(to->rejected() + add.rejected());
  to->set_passages(to->passages() + add.passages());
}

std::string Duration(absl::Duration d) {
  int64_t seconds = absl::ToInt64Seconds(d);
  if (seconds >= 3600) {
    return absl::StrFormat("%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
  }
  return absl::StrFormat("%d:%02d", seconds / 60, seconds % 60);
}

// The progress display: redrawn in place several times a second on a terminal, a plain line every
// few seconds otherwise (a log, a CI job). It runs on its own thread because a Write() may block
// for a long time under flow control while the server works through its backlog.
class ImportProgress {
 public:
  ImportProgress(std::ostream& out, bool terminal, size_t files)
      : out_(out), terminal_(terminal), files_(files), start_(absl::Now()) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~ImportProgress() { Stop(); }

  void StartFile(const std::string& name, size_t index) {
    absl::MutexLock lock(&mu_);
    file_ = name;
    file_index_ = index;
    file_fraction_ = -1;
  }
  void Sent() {
    absl::MutexLock lock(&mu_);
    ++sent_;
  }
  void Acknowledged(int64_t items) {
    absl::MutexLock lock(&mu_);
    acknowledged_ += items;
  }
  void Read(const importers::ReadProgress& p) {
    absl::MutexLock lock(&mu_);
    file_fraction_ = p.total > 0 ? static_cast<double>(p.done) / p.total : -1;
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    thread_.join();
    absl::MutexLock lock(&mu_);
    Render();
    if (terminal_) out_ << "\n";
    out_.flush();
  }

 private:
  void Loop() {
    const absl::Duration period = terminal_ ? absl::Milliseconds(200) : absl::Seconds(5);
    absl::MutexLock lock(&mu_);
    while (!mu_.AwaitWithTimeout(absl::Condition(&stopped_), period)) Render();
  }

  void Render() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Duration elapsed = absl::Now() - start_;
    double rate = sent_ / std::max(absl::ToDoubleSeconds(elapsed), 1e-3);
    std::string line =
        absl::StrFormat("%s: %d sent, %d acknowledged, %.0f/s", file_, sent_, acknowledged_, rate);
    std::string bar;
    if (file_fraction_ >= 0) {
      double overall = (file_index_ + std::min(file_fraction_, 1.0)) / files_;
      absl::StrAppend(&line, absl::StrFormat(", %.0f%% read", overall * 100));
      if (overall > 0.01 && overall < 1) {
        absl::StrAppend(&line, ", ETA ", Duration(elapsed * ((1 - overall) / overall)));
      } else if (overall >= 1 && acknowledged_ < sent_) {
        // Flow control lets the client run ahead of the server by a window of items; the
        // call's outcomes arrive once the server has worked through them.
        absl::StrAppend(&line, ", waiting for the server");
      }
      constexpr int kWidth = 24;
      int filled = static_cast<int>(overall * kWidth + 0.5);
      bar = absl::StrCat("[", std::string(filled, '#'), std::string(kWidth - filled, '.'), "] ");
    }
    if (terminal_) {
      out_ << "\r\x1b[K" << bar << line;  // Clear the line, then redraw it.
    } else {
      out_ << "import: " << line << "\n";
    }
    out_.flush();
  }

  std::ostream& out_;
  const bool terminal_;
  const size_t files_;
  const absl::Time start_;
  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::string file_ ABSL_GUARDED_BY(mu_);
  size_t file_index_ ABSL_GUARDED_BY(mu_) = 0;
  double file_fraction_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t acknowledged_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

// Beyond this size a file's CREATED/UPDATED/UNCHANGED results are not sent back (the proto
// recommends only_exceptions above 20,000 items; 8 MiB of CSV or JSON Lines is about that many
// entries, and so are 20,000 pages).
bool IsLargeSource(const importers::SourceReader& reader, const importers::SourceFormat& format) {
  const importers::ReadProgress p = reader.Progress();
  return format.pages ? p.total > 20000 : p.total > (8 << 20);  // Pages, or bytes.
}

// Reads the next record that can be sent, noting the unreadable ones on the way; nullopt at the
// end of the source.
absl::StatusOr<std::optional<importers::SourceRecord>> NextItem(importers::SourceReader& reader,
                                                                ImportProgress& progress,
                                                                FileImport* out) {
  while (true) {
    absl::StatusOr<std::optional<importers::SourceRecord>> record = reader.Next();
    if (!record.ok()) return record.status();
    progress.Read(reader.Progress());
    if (!record->has_value() || (*record)->item.ok()) return record;
    out->unreadable.push_back({(*record)->origin, std::string((*record)->item.status().message())});
  }
}

// Sends one file in as many Import calls as it needs. An error stops the file: items of calls
// that finished stay imported (the server commits item by item).
absl::Status ImportFile(Stub& stub, importers::SourceReader& reader, bool large,
                        ImportProgress& progress, FileImport* out) {
  const int batch_size = absl::GetFlag(FLAGS_batch_size);
  // An Import may run for minutes; the global --timeout (for one quick call) applies only when
  // given on the command line.
  const absl::Duration call_timeout =
      FlagOnCommandLine("timeout") ? absl::GetFlag(FLAGS_timeout) : absl::Hours(1);
  v1::ImportHeader header;
  header.set_source_name(out->source_name);
  header.set_default_format(reader.defaults().default_format);
  header.set_default_region(absl::GetFlag(FLAGS_region));
  header.set_dry_run(out->dry_run);

  absl::StatusOr<std::optional<importers::SourceRecord>> next = NextItem(reader, progress, out);
  while (next.ok() && next->has_value()) {
    absl::StatusOr<std::string> request_id = NewRequestId();
    if (!request_id.ok()) return request_id.status();
    header.set_request_id(*request_id);
    // A source that needs a second call is large by definition.
    header.set_only_exceptions(large || out->calls > 0);

    grpc::ClientContext context;
    PrepareContext(&context, /*with_deadline=*/false);
    context.set_deadline(absl::ToChronoTime(absl::Now() + call_timeout));
    v1::ImportResponse response;
    std::unique_ptr<grpc::ClientWriter<v1::ImportRequest>> writer =
        stub.Import(&context, &response);
    v1::ImportRequest request;
    *request.mutable_header() = header;
    bool open = writer->Write(request);
    std::vector<std::string> origins;  // Of this call's items, by index.
    while (open && next.ok() && next->has_value() &&
           static_cast<int>(origins.size()) < batch_size) {
      importers::SourceRecord& record = **next;
      origins.push_back(std::move(record.origin));
      *request.mutable_item() = *std::move(record.item);
      open = writer->Write(request);  // False: the server ended the call; Finish() says why.
      progress.Sent();
      next = NextItem(reader, progress, out);
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    if (!status.ok()) {
      absl::Status error = FromGrpcStatus(status);
      return absl::Status(error.code(), absl::StrCat("Import call ", out->calls + 1, " of ",
                                                     out->path, ": ", error.message()));
    }
    ++out->calls;
    out->import_ids.push_back(response.import_id());
    AddTotals(response.totals(), &out->totals);
    progress.Acknowledged(response.totals().received());
    for (v1::ImportItemResult& r : *response.mutable_results()) {
      std::string origin = r.index() >= 0 && static_cast<size_t>(r.index()) < origins.size()
                               ? origins[r.index()]
                               : "";
      out->results.emplace_back(std::move(origin), std::move(r));
    }
  }
  return next.status();
}

void PrintFileSummary(const FileImport& f) {
  const v1::ImportTotals& t = f.totals;
  std::cout << f.path << " → source " << f.source_name << ", " << f.calls
            << (f.calls == 1 ? " call" : " calls")
            << (f.dry_run ? " (dry run: nothing written)" : "") << "\n";
  std::cout << absl::StrFormat(
      "  received %d · created %d · updated %d · unchanged %d · duplicates %d · superseded %d · "
      "older versions %d · rejected %d · passages %d\n",
      t.received(), t.created(), t.updated(), t.unchanged(), t.duplicates(), t.superseded(),
      t.created_superseded(), t.rejected(), t.passages());
  auto section = [&](v1::ImportOutcome outcome, absl::string_view title,
                     const std::function<std::string(const v1::ImportItemResult&)>& detail) {
    bool first = true;
    for (const auto& [origin, r] : f.results) {
      if (r.outcome() != outcome) continue;
      if (first) std::cout << "  " << title << ":\n";
      first = false;
      std::cout << "    " << (origin.empty() ? "-" : origin) << "  " << r.source_id() << "  "
                << detail(r) << "\n";
    }
  };
  section(v1::IMPORT_OUTCOME_REJECTED, "rejected", [](const v1::ImportItemResult& r) {
    const std::string name = v1::RejectionReason_Name(r.rejection_reason());
    absl::string_view reason = absl::StripPrefix(name, "REJECTION_REASON_");
    // The server's message usually starts with the field already.
    if (r.rejected_field().empty() || absl::StartsWith(r.message(), r.rejected_field())) {
      return absl::StrCat(reason, " ", r.message());
    }
    return absl::StrCat(reason, " ", r.rejected_field(), ": ", r.message());
  });
  section(v1::IMPORT_OUTCOME_DUPLICATE, "duplicates merged", [](const v1::ImportItemResult& r) {
    return absl::StrFormat("→ %s (similarity %.2f)", r.duplicate_of_id(), r.similarity());
  });
  section(v1::IMPORT_OUTCOME_SUPERSEDED, "new versions", [](const v1::ImportItemResult& r) {
    return absl::StrCat("replaces ", absl::StrJoin(r.superseded_entry_ids(), ", "));
  });
  section(v1::IMPORT_OUTCOME_CREATED_SUPERSEDED, "older versions kept as amended",
          [](const v1::ImportItemResult& r) {
            return absl::StrCat("kept as ", r.entry_id(), ", superseded by ", r.superseded_by_id());
          });
  if (!f.unreadable.empty()) {
    std::cout << "  not sent (could not be read):\n";
    for (const Unreadable& u : f.unreadable)
      std::cout << "    " << u.message << "  (" << u.origin << ")\n";
  }
}

std::string FileImportJson(const FileImport& f, const absl::Status& status) {
  nlohmann::json j;
  j["file"] = f.path;
  j["sourceName"] = f.source_name;
  j["dryRun"] = f.dry_run;
  j["calls"] = f.calls;
  j["importIds"] = f.import_ids;
  j["totals"] = nlohmann::json::parse(ToJson(f.totals));
  j["results"] = nlohmann::json::array();
  for (const auto& [origin, r] : f.results) {
    nlohmann::json result = nlohmann::json::parse(ToJson(r));
    result["origin"] = origin;
    j["results"].push_back(std::move(result));
  }
  j["unreadable"] = nlohmann::json::array();
  for (const Unreadable& u : f.unreadable) {
    j["unreadable"].push_back({{"origin", u.origin}, {"message", u.message}});
  }
  if (!status.ok()) {
    j["error"] = {{"code", absl::StatusCodeToString(status.code())},
                  {"message", std::string(status.message())}};
  }
  return j.dump();
}

int RunImport(const std::vector<std::string>& files) {
  absl::StatusOr<const importers::SourceFormat*> format =
      importers::FindSourceFormat(absl::GetFlag(FLAGS_format));
  if (!format.ok())
    return ReportUsageError(absl::StrCat("--", format.status().message()), HelpCommand("import"));
  const int batch_size = absl::GetFlag(FLAGS_batch_size);
  if (batch_size < 1 || batch_size > 50000) {
    return ReportUsageError("--batch_size: must be 1-50000", HelpCommand("import"));
  }
  // Every file is opened first, so that a wrong name or a CSV header with unknown columns stops
  // the command before anything is sent.
  std::vector<std::unique_ptr<importers::SourceReader>> readers;
  std::vector<const importers::SourceFormat*> formats;
  for (const std::string& file : files) {
    const importers::SourceFormat* file_format = *format;
    if (file_format == nullptr) {
      absl::StatusOr<const importers::SourceFormat*> from_path = importers::FormatFromPath(file);
      if (!from_path.ok()) return ReportError(from_path.status());
      file_format = *from_path;
    }
    absl::StatusOr<std::unique_ptr<importers::SourceReader>> reader =
        importers::OpenSource(file, file_format);
    if (!reader.ok()) return ReportError(reader.status());
    readers.push_back(*std::move(reader));
    formats.push_back(file_format);
  }
  absl::StatusOr<std::unique_ptr<Stub>> stub = KbStub();
  if (!stub.ok()) return ReportError(stub.status());

  std::ostream& progress_out = Json() ? std::cerr : std::cout;
  const bool terminal = isatty(Json() ? fileno(stderr) : fileno(stdout)) == 1;
  std::vector<FileImport> done;
  absl::Status failed;
  {
    ImportProgress progress(progress_out, terminal, files.size());
    for (size_t i = 0; i < files.size() && failed.ok(); ++i) {
      FileImport f;
      f.path = files[i];
      f.source_name = absl::GetFlag(FLAGS_source).empty() ? readers[i]->defaults().source_name
                                                          : absl::GetFlag(FLAGS_source);
      f.dry_run = absl::GetFlag(FLAGS_dry_run);
      progress.StartFile(files[i], i);
      failed =
          ImportFile(**stub, *readers[i], IsLargeSource(*readers[i], *formats[i]), progress, &f);
      readers[i].reset();  // Closes the file.
      done.push_back(std::move(f));
    }
  }
  for (size_t i = 0; i < done.size(); ++i) {
    const bool last = i + 1 == done.size();
    if (Json()) {
      std::cout << FileImportJson(done[i], last ? failed : absl::OkStatus()) << "\n";
    } else {
      PrintFileSummary(done[i]);
    }
  }
  return failed.ok() ? kExitOk : ReportError(failed);
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
