#include "tests/support/power_loss_fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace hotline::testing {
namespace {

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

std::string Trimmed(std::string directory) {
  while (directory.size() > 1 && directory.back() == '/') directory.pop_back();
  return directory;
}

bool Exists(const std::string& path, uint64_t* size) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return false;
  *size = static_cast<uint64_t>(info.st_size);
  return true;
}

rocksdb::IOStatus Refused(const char* what) {
  return rocksdb::IOStatus::IOError(std::string("simulated disk failure: ") + what);
}

}  // namespace

// A file being written: what it appends and syncs is reported to the file system.
class PowerLossFileSystem::File : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  File(PowerLossFileSystem* fs, std::string path, uint64_t size,
       std::unique_ptr<rocksdb::FSWritableFile> target)
      : FSWritableFileOwnerWrapper(std::move(target)),
        fs_(fs),
        path_(std::move(path)),
        size_(size) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (!fs_->TakeWrite()) return RefuseWrite();
    rocksdb::IOStatus s = target()->Append(data, options, dbg);
    return s.ok() ? Grow(size_ + data.size()) : s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (!fs_->TakeWrite()) return RefuseWrite();
    rocksdb::IOStatus s = target()->Append(data, options, info, dbg);
    return s.ok() ? Grow(size_ + data.size()) : s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    if (!fs_->TakeWrite()) return RefuseWrite();
    rocksdb::IOStatus s = target()->PositionedAppend(data, offset, options, dbg);
    return s.ok() ? Grow(std::max(size_, offset + data.size())) : s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    if (!fs_->TakeWrite()) return RefuseWrite();
    rocksdb::IOStatus s = target()->PositionedAppend(data, offset, options, info, dbg);
    return s.ok() ? Grow(std::max(size_, offset + data.size())) : s;
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    if (!fs_->TakeWrite()) return RefuseWrite();
    rocksdb::IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) size_ = size;
    return s.ok() ? fs_->Appended(path_, size) : s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (fs_->failing_syncs()) return RefuseSync();
    rocksdb::IOStatus s = target()->Sync(options, dbg);
    return s.ok() ? fs_->Synced(path_) : s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (fs_->failing_syncs()) return RefuseSync();
    rocksdb::IOStatus s = target()->Fsync(options, dbg);
    return s.ok() ? fs_->Synced(path_) : s;
  }
  // RangeSync starts write-back of a range; only Sync and Fsync are durability barriers.

 private:
  rocksdb::IOStatus Grow(uint64_t size) {
    size_ = size;
    return fs_->Appended(path_, size);
  }
  rocksdb::IOStatus RefuseWrite() {
    fs_->CountRefusedWrite();
    return Refused("write");
  }
  rocksdb::IOStatus RefuseSync() {
    fs_->CountRefusedSync();
    return Refused("sync");
  }

  PowerLossFileSystem* fs_;
  const std::string path_;
  uint64_t size_;
};

// A directory: its fsync makes the names created or renamed in it durable.
class PowerLossFileSystem::Directory : public rocksdb::FSDirectory {
 public:
  Directory(PowerLossFileSystem* fs, std::string path, std::unique_ptr<rocksdb::FSDirectory> target)
      : fs_(fs), path_(Trimmed(std::move(path))), target_(std::move(target)) {}

  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (fs_->failing_syncs()) {
      fs_->CountRefusedSync();
      return Refused("directory sync");
    }
    rocksdb::IOStatus s = target_->Fsync(options, dbg);
    if (s.ok()) fs_->DirectorySynced(path_);
    return s;
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& options,
                                        rocksdb::IODebugContext* dbg,
                                        const rocksdb::DirFsyncOptions& dir_options) override {
    if (fs_->failing_syncs()) {
      fs_->CountRefusedSync();
      return Refused("directory sync");
    }
    rocksdb::IOStatus s = target_->FsyncWithDirOptions(options, dbg, dir_options);
    if (s.ok()) fs_->DirectorySynced(path_);
    return s;
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return target_->Close(options, dbg);
  }
  size_t GetUniqueId(char* id, size_t max_size) const override {
    return target_->GetUniqueId(id, max_size);
  }

 private:
  PowerLossFileSystem* fs_;
  const std::string path_;
  std::unique_ptr<rocksdb::FSDirectory> target_;
};

PowerLossFileSystem::PowerLossFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(std::move(base)) {}

void PowerLossFileSystem::SetFailing(bool writes, bool syncs) {
  failing_writes_.store(writes);
  failing_syncs_.store(syncs);
}

rocksdb::IOStatus PowerLossFileSystem::NewWritableFile(
    const std::string& path, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  if (failing_writes()) {
    CountRefusedWrite();
    return Refused("create");
  }
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(path, options, &file, dbg);
  if (!s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    files_[path] = FileState{};  // A new (or emptied) file, not yet in its directory for good.
  }
  *result = std::make_unique<File>(this, path, 0, std::move(file));
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::ReopenWritableFile(
    const std::string& path, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  if (failing_writes()) {
    CountRefusedWrite();
    return Refused("reopen");
  }
  uint64_t size = 0;
  const bool existed = Exists(path, &size);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReopenWritableFile(path, options, &file, dbg);
  if (!s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    if (files_.count(path) == 0) {
      FileState state;
      state.written = state.synced = existed ? size : 0;
      state.entry_pending = !existed;
      files_[path] = state;
    }
  }
  *result = std::make_unique<File>(this, path, existed ? size : 0, std::move(file));
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::ReuseWritableFile(
    const std::string& path, const std::string& old_path, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  // Recycled log files are renamed and rewritten: a rename, then a new file's contents.
  rocksdb::IOStatus s = RenameFile(old_path, path, rocksdb::IOOptions(), dbg);
  if (!s.ok()) return s;
  return NewWritableFile(path, options, result, dbg);
}

rocksdb::IOStatus PowerLossFileSystem::RenameFile(const std::string& from, const std::string& to,
                                                  const rocksdb::IOOptions& options,
                                                  rocksdb::IODebugContext* dbg) {
  if (failing_writes()) {
    CountRefusedWrite();
    return Refused("rename");
  }
  absl::MutexLock lock(&mu_);
  std::optional<std::string> replaced;
  auto old_to = files_.find(to);
  uint64_t size = 0;
  if (old_to != files_.end() && old_to->second.entry_pending) {
    replaced = old_to->second.replaced_contents;  // It was never durable under this name.
  } else if (Exists(to, &size) && size <= (1u << 20)) {
    std::ifstream in(to, std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    replaced = contents.str();
  }
  rocksdb::IOStatus s = target()->RenameFile(from, to, options, dbg);
  if (!s.ok()) return s;
  FileState state;
  if (auto moved = files_.find(from); moved != files_.end()) {
    state = moved->second;
    files_.erase(moved);
  } else if (Exists(to, &size)) {
    state.written = state.synced = size;
  }
  state.entry_pending = true;
  state.replaced_contents = std::move(replaced);
  files_[to] = std::move(state);
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::DeleteFile(const std::string& path,
                                                  const rocksdb::IOOptions& options,
                                                  rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->DeleteFile(path, options, dbg);
  // Deletions are taken as durable: a file of the database coming back after a power cut is
  // one RocksDB had finished with, which it ignores or deletes again.
  absl::MutexLock lock(&mu_);
  files_.erase(path);
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::NewDirectory(const std::string& path,
                                                    const rocksdb::IOOptions& options,
                                                    std::unique_ptr<rocksdb::FSDirectory>* result,
                                                    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> directory;
  rocksdb::IOStatus s = target()->NewDirectory(path, options, &directory, dbg);
  if (s.ok()) *result = std::make_unique<Directory>(this, path, std::move(directory));
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::Appended(const std::string& path, uint64_t end) {
  absl::MutexLock lock(&mu_);
  FileState& state = files_[path];
  state.written = end;
  state.synced = std::min(state.synced, end);
  return rocksdb::IOStatus::OK();
}

rocksdb::IOStatus PowerLossFileSystem::Synced(const std::string& path) {
  absl::MutexLock lock(&mu_);
  FileState& state = files_[path];
  state.synced = state.written;
  return rocksdb::IOStatus::OK();
}

void PowerLossFileSystem::DirectorySynced(const std::string& directory) {
  absl::MutexLock lock(&mu_);
  for (auto& [path, state] : files_) {
    if (DirectoryOf(path) != directory) continue;
    state.entry_pending = false;
    state.replaced_contents.reset();
  }
}

PowerLossFileSystem::Dropped PowerLossFileSystem::PowerCut() {
  absl::MutexLock lock(&mu_);
  Dropped dropped;
  for (auto& [path, state] : files_) {
    if (state.entry_pending) {
      ++dropped.files;
      dropped.bytes += state.written;
      if (state.replaced_contents.has_value()) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << *state.replaced_contents;
      } else {
        unlink(path.c_str());
      }
    } else if (state.written > state.synced) {
      dropped.bytes += state.written - state.synced;
      if (truncate(path.c_str(), static_cast<off_t>(state.synced)) != 0) {
        // The file may have been deleted meanwhile; nothing to drop then.
      }
    }
  }
  files_.clear();  // What is left on disk is what a restart finds.
  return dropped;
}

}  // namespace hotline::testing
