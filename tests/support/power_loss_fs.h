// A RocksDB file system for tests that can lose power. It writes through to the real disk and
// remembers, for every file written since the test began, how much of it was synced; a
// simulated power cut (PowerCut) then throws away what the disk would not have kept:
//   - the bytes appended to a file after its last Sync/Fsync;
//   - a file created, or renamed into place, after the last fsync of its directory (a rename
//     over an existing small file is undone: the old contents come back).
// A SIGKILL keeps the page cache, so it proves nothing about fsync; this does, because it
// drops exactly what only the page cache held. It also fails writes or syncs on demand, as a
// full or dying disk would.
//
// Use: wrap with rocksdb::NewCompositeEnv, open the store with that env, work, then
//   fs->SetFailing(true, true); close everything; fs->PowerCut(); fs->SetFailing(false, false);
// and reopen. Learnt from the model of RocksDB's own fault-injection test file system; not
// copied from it.
#ifndef HOTLINE_TESTS_SUPPORT_POWER_LOSS_FS_H_
#define HOTLINE_TESTS_SUPPORT_POWER_LOSS_FS_H_

#include <rocksdb/file_system.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace hotline::testing {

class PowerLossFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit PowerLossFileSystem(
      std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default());

  const char* Name() const override { return "PowerLossFileSystem"; }

  // While set, appends (writes) and syncs fail with an I/O error and change nothing.
  void SetFailing(bool writes, bool syncs);
  // The next `n` appends succeed and every one after fails, as a disk dying in the middle of
  // a multi-step change would; negative: no limit.
  void FailWritesAfter(int n) { writes_left_.store(n); }

  // Drops what was not durable (see above). Call with every file of the database closed.
  // Returns how many bytes and files it dropped.
  struct Dropped {
    uint64_t bytes = 0;
    int files = 0;
  };
  Dropped PowerCut();

  // Writes and syncs refused while failing, for tests to check they were attempted.
  int refused_writes() const { return refused_writes_.load(); }
  int refused_syncs() const { return refused_syncs_.load(); }

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& path, const std::string& old_path,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& path, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& path, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;

 private:
  class File;
  class Directory;

  struct FileState {
    uint64_t written = 0;
    uint64_t synced = 0;
    // Created or renamed here since the directory's last fsync: gone at a power cut.
    bool entry_pending = true;
    // For a rename over an existing file not yet made durable: what the old file held.
    std::optional<std::string> replaced_contents;
  };

  // Called by the files and directories.
  rocksdb::IOStatus Appended(const std::string& path, uint64_t end);
  rocksdb::IOStatus Synced(const std::string& path);
  void DirectorySynced(const std::string& directory);
  bool failing_writes() const { return failing_writes_.load(); }
  // For an append: false when it must fail (failing, or the allowance of appends is spent).
  bool TakeWrite() {
    if (failing_writes()) return false;
    int left = writes_left_.load();
    while (left >= 0) {
      if (left == 0) return false;
      if (writes_left_.compare_exchange_weak(left, left - 1)) return true;
    }
    return true;
  }
  bool failing_syncs() const { return failing_syncs_.load(); }
  void CountRefusedWrite() { refused_writes_.fetch_add(1); }
  void CountRefusedSync() { refused_syncs_.fetch_add(1); }

  std::atomic<bool> failing_writes_{false};
  std::atomic<bool> failing_syncs_{false};
  std::atomic<int> writes_left_{-1};
  std::atomic<int> refused_writes_{0};
  std::atomic<int> refused_syncs_{0};
  absl::Mutex mu_;
  std::map<std::string, FileState> files_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hotline::testing

#endif  // HOTLINE_TESTS_SUPPORT_POWER_LOSS_FS_H_
