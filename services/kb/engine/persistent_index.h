// The search index with its documents kept in RocksDB: every upsert and delete is written
// (synced) before the in-memory index changes, and opening rebuilds the index from the store,
// analysing on several threads.
#ifndef HOTLINE_SERVICES_KB_ENGINE_PERSISTENT_INDEX_H_
#define HOTLINE_SERVICES_KB_ENGINE_PERSISTENT_INDEX_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/rocks_store.h"
#include "services/kb/engine/search_index.h"

namespace hotline::kb {

class PersistentIndex {
 public:
  // The column family holding the documents.
  static constexpr char kDocumentsFamily[] = "search_documents";

  // Loads every stored document into `index` (which should be empty). `threads` analyse.
  static absl::StatusOr<std::unique_ptr<PersistentIndex>> Open(RocksStore* store,
                                                               std::unique_ptr<SearchIndex> index,
                                                               int threads = 2);

  // Durable first, then visible to searches.
  absl::Status Upsert(DocumentInput doc);
  // NOT_FOUND when there is no such document.
  absl::Status Delete(const std::string& id);
  absl::StatusOr<std::optional<DocumentInput>> Get(const std::string& id) const;

  SearchIndex& index() { return *index_; }
  const SearchIndex& index() const { return *index_; }

 private:
  PersistentIndex(RocksStore* store, std::unique_ptr<SearchIndex> index)
      : store_(store), index_(std::move(index)) {}

  RocksStore* store_;
  std::unique_ptr<SearchIndex> index_;
  // Keeps the store and the index in the same order of writes to one id.
  absl::Mutex write_mu_;
};

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_ENGINE_PERSISTENT_INDEX_H_
