#include "services/kb/engine/persistent_index.h"

#include <malloc.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "stored_document.pb.h"

namespace hotline::kb {
namespace {

engine::StoredDocument ToStored(const DocumentInput& d) {
  engine::StoredDocument s;
  s.set_id(d.id);
  s.set_title(d.title);
  for (const auto& t : d.other_titles) s.add_other_titles(t);
  s.set_kind(d.kind);
  s.set_status(d.status);
  s.set_level(d.level);
  s.set_region(d.region);
  s.set_category_path(d.category_path);
  for (const auto& a : d.agencies) s.add_agencies(a);
  s.set_publish_date(d.publish_date);
  s.set_effective_date(d.effective_date);
  for (const auto& t : d.tags) s.add_tags(t);
  s.set_question(d.question);
  s.set_source_inactive(d.source_inactive);
  s.set_update_micros(d.update_micros);
  for (const auto& p : d.passages) {
    engine::StoredPassage* sp = s.add_passages();
    sp->set_label(p.label);
    sp->set_heading(p.heading);
    sp->set_text(p.text);
  }
  return s;
}

DocumentInput FromStored(const engine::StoredDocument& s) {
  DocumentInput d;
  d.id = s.id();
  d.title = s.title();
  d.other_titles.assign(s.other_titles().begin(), s.other_titles().end());
  d.kind = s.kind();
  d.status = s.status();
  d.level = s.level();
  d.region = s.region();
  d.category_path = s.category_path();
  d.agencies.assign(s.agencies().begin(), s.agencies().end());
  d.publish_date = s.publish_date();
  d.effective_date = s.effective_date();
  d.tags.assign(s.tags().begin(), s.tags().end());
  d.question = s.question();
  d.source_inactive = s.source_inactive();
  d.update_micros = s.update_micros();
  for (const auto& p : s.passages()) d.passages.push_back({p.label(), p.heading(), p.text()});
  return d;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PersistentIndex>> PersistentIndex::Open(
    RocksStore* store, std::unique_ptr<SearchIndex> index, int threads) {
  std::unique_ptr<PersistentIndex> out(new PersistentIndex(store, std::move(index)));
  // Documents are read, analysed (on `threads` threads) and inserted a batch at a time: the
  // analyses are several times the index's own size, and holding all of them at once left the
  // heap fragmented around the index for the life of the process (hundreds of MiB resident).
  constexpr size_t kBatch = 256;
  std::vector<std::string> values;
  absl::Status error;
  auto flush = [&]() {
    std::vector<std::shared_ptr<const AnalyzedDocument>> analyzed(values.size());
    std::atomic<size_t> next{0};
    absl::Mutex error_mu;
    std::vector<std::thread> workers;
    for (int t = 0; t < std::max(1, threads); ++t) {
      workers.emplace_back([&] {
        for (size_t i = next++; i < values.size(); i = next++) {
          engine::StoredDocument stored;
          absl::StatusOr<std::shared_ptr<const AnalyzedDocument>> a =
              stored.ParseFromString(values[i])
                  ? out->index_->Analyze(FromStored(stored))
                  : absl::DataLossError("a stored search document does not parse");
          if (a.ok()) {
            analyzed[i] = *a;
          } else {
            absl::MutexLock lock(&error_mu);
            error.Update(a.status());
          }
        }
      });
    }
    for (auto& w : workers) w.join();
    if (error.ok()) {
      for (auto& a : analyzed) out->index_->Insert(std::move(a));
    }
    values.clear();
    return error.ok();
  };
  RETURN_IF_ERROR(store->ScanPrefix(store->Family(kDocumentsFamily), "",
                                    [&](absl::string_view, absl::string_view value) {
                                      values.emplace_back(value);
                                      return values.size() < kBatch || flush();
                                    }));
  RETURN_IF_ERROR(error);
  flush();
  RETURN_IF_ERROR(error);
  // Hand back the pages of the last batches rather than keep them for the life of the process.
  values.shrink_to_fit();
  malloc_trim(0);
  return out;
}

absl::Status PersistentIndex::Upsert(DocumentInput doc) {
  if (doc.id.empty()) return absl::InvalidArgumentError("id: required");
  std::string bytes = ToStored(doc).SerializeAsString();
  std::string id = doc.id;
  // Analyse before writing: a document the index cannot take is rejected, not stored.
  ASSIGN_OR_RETURN(std::shared_ptr<const AnalyzedDocument> analyzed,
                   index_->Analyze(std::move(doc)));
  absl::MutexLock lock(&write_mu_);
  RETURN_IF_ERROR(store_->Put(store_->Family(kDocumentsFamily), id, bytes));
  index_->Insert(std::move(analyzed));
  return absl::OkStatus();
}

absl::Status PersistentIndex::Delete(const std::string& id) {
  absl::MutexLock lock(&write_mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> existing,
                   store_->Get(store_->Family(kDocumentsFamily), id));
  if (!existing.has_value())
    return absl::NotFoundError(absl::StrCat("document '", id, "' not found"));
  rocksdb::WriteBatch batch;
  batch.Delete(store_->Family(kDocumentsFamily), id);
  RETURN_IF_ERROR(store_->Write(&batch));
  index_->Remove(id);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<DocumentInput>> PersistentIndex::Get(const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                   store_->Get(store_->Family(kDocumentsFamily), id));
  if (!bytes.has_value()) return std::optional<DocumentInput>();
  engine::StoredDocument stored;
  if (!stored.ParseFromString(*bytes)) return absl::DataLossError("stored document does not parse");
  return std::optional<DocumentInput>(FromStored(stored));
}

}  // namespace hotline::kb
