#include "common/rocks_store.h"

#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include "tests/support/power_loss_fs.h"
#include "tests/support/test_util.h"

namespace hotline {
namespace {

class RocksStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    auto store =
        RocksStore::Open({.path = dir_.Sub("db"), .column_families = {"tickets", "events"}});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  testing::TempDir dir_;
  std::unique_ptr<RocksStore> store_;
};

TEST_F(RocksStoreTest, ReopenedStoreKeepsItsData) {
  rocksdb::WriteBatch batch;
  batch.Put(store_->Family("tickets"), "t/1", "first");
  batch.Put(store_->Family("events"), "e/1/1", "created");
  ASSERT_TRUE(store_->Write(&batch).ok());
  ASSERT_TRUE(store_->Put(store_->Family("tickets"), "t/2", "second").ok());

  Reopen();

  auto first = store_->Get(store_->Family("tickets"), "t/1");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->value_or("<absent>"), "first");
  auto event = store_->Get(store_->Family("events"), "e/1/1");
  EXPECT_EQ(event->value_or("<absent>"), "created");
  // Column families are separate key spaces.
  EXPECT_FALSE(store_->Get(store_->Family("events"), "t/1")->has_value());
}

TEST_F(RocksStoreTest, ScanPrefixVisitsOnlyThePrefixInOrder) {
  for (const char* key : {"a/2", "a/1", "b/1", "a/3", "ab/1"}) {
    ASSERT_TRUE(store_->Put(store_->Family("tickets"), key, key).ok());
  }
  std::vector<std::string> seen;
  ASSERT_TRUE(store_
                  ->ScanPrefix(store_->Family("tickets"), "a/",
                               [&](absl::string_view key, absl::string_view) {
                                 seen.emplace_back(key);
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a/1", "a/2", "a/3"}));
}

TEST_F(RocksStoreTest, CheckpointIsAnOpenableCopy) {
  ASSERT_TRUE(store_->Put(store_->Family("tickets"), "t/1", "kept").ok());
  ASSERT_TRUE(store_->Checkpoint(dir_.Sub("backup")).ok());
  // Writes after the checkpoint do not reach it.
  ASSERT_TRUE(store_->Put(store_->Family("tickets"), "t/2", "later").ok());

  auto backup = RocksStore::Open({.path = dir_.Sub("backup"), .column_families = {"tickets"}});
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ((*backup)->Get((*backup)->Family("tickets"), "t/1")->value_or(""), "kept");
  EXPECT_FALSE((*backup)->Get((*backup)->Family("tickets"), "t/2")->has_value());
  // The "events" family, unnamed here, still opens because it exists on disk.
  EXPECT_NE((*backup)->Family("events"), nullptr);
}

TEST(RocksStoreOpenTest, EmptyPathIsAnError) {
  EXPECT_EQ(RocksStore::Open({}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hotline

namespace hotline {
namespace {

// RocksDB stops an open database after a failed sync: the store says so once, and every later
// write is refused even on a healed disk, until the store is opened again (serving_loop.h).
TEST(RocksStoreFailingDiskTest, AFailedSyncStopsTheStoreWhichSaysSoOnce) {
  auto fs = std::make_shared<testing::PowerLossFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  testing::TempDir dir;
  std::vector<absl::Status> told;
  RocksStoreOptions options{.path = dir.Sub("db"), .column_families = {}, .env = env.get()};
  options.on_unwritable = [&](const absl::Status& why) { told.push_back(why); };
  {
    auto store = RocksStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    rocksdb::ColumnFamilyHandle* family = (*store)->db()->DefaultColumnFamily();
    ASSERT_TRUE((*store)->Put(family, "before", "1").ok());
    EXPECT_TRUE(told.empty());
    fs->SetFailing(/*writes=*/false, /*syncs=*/true);
    absl::Status failed = (*store)->Put(family, "during", "2");
    EXPECT_EQ(failed.code(), absl::StatusCode::kInternal) << failed;
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0], failed);
    fs->SetFailing(false, false);
    EXPECT_FALSE((*store)->Put(family, "after", "3").ok());
    EXPECT_EQ(told.size(), 1u) << "told once, not at every refused write";
  }
  // Opened again on the healed disk, it writes; what was acknowledged is there.
  auto store = RocksStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  rocksdb::ColumnFamilyHandle* family = (*store)->db()->DefaultColumnFamily();
  EXPECT_TRUE((*store)->Put(family, "after", "3").ok());
  auto before = (*store)->Get(family, "before");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->value_or(""), "1");
  EXPECT_EQ(told.size(), 1u);
}

}  // namespace
}  // namespace hotline
