// The durable store of every service: one RocksDB database with named column families.
// Writes are synced to the write-ahead log before they return, because the services
// acknowledge a write to a client only after it would survive a crash.
#ifndef HOTLINE_COMMON_ROCKS_STORE_H_
#define HOTLINE_COMMON_ROCKS_STORE_H_

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hotline {

struct RocksStoreOptions {
  std::string path;
  // Column families besides "default"; created when missing.
  std::vector<std::string> column_families;
  // fsync the WAL on every write. Only benchmarks of the unsynced path turn this off.
  bool sync_writes = true;
  size_t block_cache_bytes = 64 << 20;
  // The environment the files are written through; null: the default (the real disk). Tests
  // pass one that loses what was not synced at a simulated power cut (tests/support).
  rocksdb::Env* env = nullptr;
  // Called once, from the writing thread, when a write failed and left the database refusing
  // every later write (RocksDB stops an open database after a failed log write or sync, and
  // after a failed fsync nothing but a fresh recovery from what is durable can be trusted).
  // The serving loop (common/serving_loop.h) rebuilds the services on a new Open.
  std::function<void(const absl::Status&)> on_unwritable = nullptr;
};

// Converts a rocksdb::Status into an absl::Status with a comparable code.
absl::Status FromRocksStatus(const rocksdb::Status& status, absl::string_view what);

class RocksStore {
 public:
  static absl::StatusOr<std::unique_ptr<RocksStore>> Open(const RocksStoreOptions& options);
  ~RocksStore();

  // The handle of a column family named at Open(); dies on an unknown name (a programming error).
  rocksdb::ColumnFamilyHandle* Family(absl::string_view name) const;

  // std::nullopt when the key is absent. With a snapshot: as of that snapshot.
  absl::StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* family,
                                                 absl::string_view key,
                                                 const rocksdb::Snapshot* snapshot = nullptr) const;
  absl::Status Put(rocksdb::ColumnFamilyHandle* family, absl::string_view key,
                   absl::string_view value);
  // Applies the whole batch atomically (and synced, unless disabled in the options).
  absl::Status Write(rocksdb::WriteBatch* batch);
  // Atomic but not synced: for bookkeeping that is safe to lose in a crash because it is
  // redone (e.g. dropping outbox entries already published).
  absl::Status WriteUnsynced(rocksdb::WriteBatch* batch);

  // Calls `visit` for each key starting with `prefix`, in key order, until it returns false.
  absl::Status ScanPrefix(
      rocksdb::ColumnFamilyHandle* family, absl::string_view prefix,
      const std::function<bool(absl::string_view key, absl::string_view value)>& visit) const;

  std::unique_ptr<rocksdb::Iterator> NewIterator(rocksdb::ColumnFamilyHandle* family,
                                                 const rocksdb::Snapshot* snapshot = nullptr) const;

  // The database as of now, for reads that must agree with each other (an index and the
  // records it names): pass it to Get and NewIterator. Released when the last copy goes.
  // Reading through it takes no lock of ours and never waits for a write.
  std::shared_ptr<const rocksdb::Snapshot> Snapshot() const;

  // A consistent, openable copy of the database in `directory` (which must not exist), made
  // with hard links where possible: the backup an operator takes without stopping the service.
  absl::Status Checkpoint(const std::string& directory);

  rocksdb::DB* db() { return db_.get(); }

 private:
  RocksStore() = default;

  // A failed write: did it leave the database stopped? Then tell on_unwritable, once.
  absl::Status CheckWritable(const rocksdb::Status& failed);

  rocksdb::WriteOptions write_options_;
  std::function<void(const absl::Status&)> on_unwritable_;
  std::atomic<bool> unwritable_{false};
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  absl::flat_hash_map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

}  // namespace hotline

#endif  // HOTLINE_COMMON_ROCKS_STORE_H_
