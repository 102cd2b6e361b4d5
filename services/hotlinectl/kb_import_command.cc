// `import FILE...`: reads every file or directory with the format registered for it
// (importers/formats.h), streams the items to the knowledge base in batches, and prints a
// summary per file (or JSON): what was added, updated, recognised as duplicate or refused.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "services/hotlinectl/client_util.h"
#include "services/hotlinectl/kb_command_parts.h"
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
ABSL_FLAG(int32_t, batch_size, 10000,
          "import: items per Import call, 1-50000 (the server's limit per stream)");
namespace hotline::cli::kb_parts {
namespace {

namespace importers = ::hotline::kb::importers;

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

}  // namespace

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

}  // namespace hotline::cli::kb_parts
