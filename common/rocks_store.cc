#include "common/rocks_store.h"

#include <glog/logging.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hotline {

absl::Status FromRocksStatus(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsNotFound()) return absl::NotFoundError(message);
  if (status.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  if (status.IsBusy() || status.IsTryAgain() || status.IsTimedOut()) {
    return absl::UnavailableError(message);
  }
  if (status.IsIOError() && status.IsNoSpace()) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

absl::StatusOr<std::unique_ptr<RocksStore>> RocksStore::Open(const RocksStoreOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("store path is empty");
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  if (options.env != nullptr) db_options.env = options.env;
  db_options.IncreaseParallelism(2);
  // Services keep few, small values per key; a shared block cache bounds read memory.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions family_options;
  family_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  db_options.table_factory = family_options.table_factory;

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, family_options);
  for (const std::string& name : options.column_families) {
    families.emplace_back(name, family_options);
  }
  // Families that exist on disk must all be opened, even ones this version no longer names.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing).ok()) {
    for (const std::string& name : existing) {
      bool known = false;
      for (const auto& f : families) known = known || f.name == name;
      if (!known) families.emplace_back(name, family_options);
    }
  }

  std::unique_ptr<RocksStore> store(new RocksStore());
  rocksdb::DB* db = nullptr;
  rocksdb::Status status =
      rocksdb::DB::Open(db_options, options.path, families, &store->handles_, &db);
  if (!status.ok()) return FromRocksStatus(status, absl::StrCat("opening ", options.path));
  store->db_.reset(db);
  for (size_t i = 0; i < families.size(); ++i) {
    store->by_name_[families[i].name] = store->handles_[i];
  }
  store->write_options_.sync = options.sync_writes;
  store->on_unwritable_ = options.on_unwritable;
  return store;
}

RocksStore::~RocksStore() {
  if (db_ == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    db_->DestroyColumnFamilyHandle(handle);
  }
  rocksdb::Status status = db_->Close();
  LOG_IF(WARNING, !status.ok()) << "closing store: " << status.ToString();
}

rocksdb::ColumnFamilyHandle* RocksStore::Family(absl::string_view name) const {
  auto it = by_name_.find(name);
  CHECK(it != by_name_.end()) << "unknown column family " << name;
  return it->second;
}

absl::StatusOr<std::optional<std::string>> RocksStore::Get(
    rocksdb::ColumnFamilyHandle* family, absl::string_view key,
    const rocksdb::Snapshot* snapshot) const {
  std::string value;
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  rocksdb::Status status = db_->Get(read, family, rocksdb::Slice(key.data(), key.size()), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return FromRocksStatus(status, "reading the store");
  return std::optional<std::string>(std::move(value));
}

absl::Status RocksStore::Put(rocksdb::ColumnFamilyHandle* family, absl::string_view key,
                             absl::string_view value) {
  rocksdb::WriteBatch batch;
  batch.Put(family, rocksdb::Slice(key.data(), key.size()),
            rocksdb::Slice(value.data(), value.size()));
  return Write(&batch);
}

absl::Status RocksStore::Write(rocksdb::WriteBatch* batch) {
  return CheckWritable(db_->Write(write_options_, batch));
}

absl::Status RocksStore::WriteUnsynced(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions options = write_options_;
  options.sync = false;
  return CheckWritable(db_->Write(options, batch));
}

absl::Status RocksStore::CheckWritable(const rocksdb::Status& written) {
  absl::Status status = FromRocksStatus(written, "writing the store");
  if (status.ok() || unwritable_.load()) return status;
  // Resume() clears an error RocksDB can recover from in place (it returns OK when there is
  // none); a stopped database refuses it.
  if (rocksdb::Status resumed = db_->Resume(); !resumed.ok() && !unwritable_.exchange(true)) {
    LOG(ERROR) << "the store refuses writes until it is opened again: " << status;
    if (on_unwritable_) on_unwritable_(status);
  }
  return status;
}

absl::Status RocksStore::ScanPrefix(
    rocksdb::ColumnFamilyHandle* family, absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(family);
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    absl::string_view key(it->key().data(), it->key().size());
    if (!absl::StartsWith(key, prefix)) break;
    if (!visit(key, absl::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromRocksStatus(it->status(), "scanning the store");
}

std::unique_ptr<rocksdb::Iterator> RocksStore::NewIterator(
    rocksdb::ColumnFamilyHandle* family, const rocksdb::Snapshot* snapshot) const {
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(read, family));
}

std::shared_ptr<const rocksdb::Snapshot> RocksStore::Snapshot() const {
  rocksdb::DB* db = db_.get();
  return std::shared_ptr<const rocksdb::Snapshot>(
      db->GetSnapshot(), [db](const rocksdb::Snapshot* s) { db->ReleaseSnapshot(s); });
}

absl::Status RocksStore::Checkpoint(const std::string& directory) {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status status = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!status.ok()) return FromRocksStatus(status, "preparing a checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocksStatus(checkpoint->CreateCheckpoint(directory),
                         absl::StrCat("checkpoint into ", directory));
}

}  // namespace hotline
