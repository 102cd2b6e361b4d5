// The base of the services' test fixtures: a real RocksDB in a temporary directory, the service
// behind a real gRPC server on port 0, and the restarts durability tests need: Reopen() (stop
// everything, open the same directory again, start again) and PowerCutAndReopen() on a file
// system that keeps only what was synced (UsePowerLossFileSystem()).
//
// A fixture says what its store holds (StoreFamilies) and how its service starts on it
// (StartService, Started) and goes (StopService); its tests call Start(), Stop() and Reopen().
#ifndef HOTLINE_TESTS_SUPPORT_SERVICE_TEST_BASE_H_
#define HOTLINE_TESTS_SUPPORT_SERVICE_TEST_BASE_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include <memory>
#include <string>
#include <vector>

#include "common/rocks_store.h"
#include "common/service_host.h"
#include "tests/support/power_loss_fs.h"
#include "tests/support/test_util.h"

namespace hotline::testing {

class ServiceTestBase : public ::testing::Test {
 protected:
  ~ServiceTestBase() override = default;

  // The column families the service's store has.
  virtual std::vector<std::string> StoreFamilies() const = 0;
  // Builds the service on the open store and adds it to the host, which starts after.
  // Failures are reported with ASSERT_*.
  virtual void StartService(RocksStore* store, ServiceHost* host) = 0;
  // Once the host serves, on `port`: make the stubs.
  virtual void Started(int port) = 0;
  // Destroys the service and the stubs: after the host has stopped, before the store closes.
  virtual void StopService() = 0;

  // Opens the store (in the same directory every time), starts the service and the host.
  void Start() {
    auto store = RocksStore::Open({.path = dir_.Sub(store_name_),
                                   .column_families = StoreFamilies(),
                                   .sync_writes = sync_writes_,
                                   .env = env_});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    host_ = std::make_unique<ServiceHost>(ServiceHostOptions{});
    StartService(store_.get(), host_.get());
    if (::testing::Test::HasFatalFailure()) return;
    absl::Status started = host_->Start();
    ASSERT_TRUE(started.ok()) << started;
    Started(host_->port());
  }

  // Stops the host, the service and the store; the directory stays.
  void Stop() {
    if (host_) host_->Shutdown();
    host_.reset();
    StopService();
    store_.reset();
  }

  void Reopen() {
    Stop();
    Start();
  }

  // The store's files live on a file system that keeps only what was synced. Call before the
  // first Start().
  void UsePowerLossFileSystem() {
    power_loss_fs_ = std::make_shared<PowerLossFileSystem>();
    env_holder_ = rocksdb::NewCompositeEnv(power_loss_fs_);
    env_ = env_holder_.get();
  }

  // The power goes with the store open (nothing more reaches the disk), then the service starts
  // again on what the disk kept. Returns what the cut dropped.
  PowerLossFileSystem::Dropped PowerCutAndReopen() {
    power_loss_fs_->SetFailing(/*writes=*/true, /*syncs=*/true);
    Stop();
    PowerLossFileSystem::Dropped dropped = power_loss_fs_->PowerCut();
    power_loss_fs_->SetFailing(false, false);
    Start();
    return dropped;
  }

  std::shared_ptr<grpc::Channel> Channel() const { return LocalChannel(host_->port()); }

  TempDir dir_;
  std::string store_name_ = "db";
  bool sync_writes_ = true;
  rocksdb::Env* env_ = nullptr;  // Default: the real file system.
  std::shared_ptr<PowerLossFileSystem> power_loss_fs_;
  std::unique_ptr<RocksStore> store_;
  std::unique_ptr<ServiceHost> host_;

 private:
  std::unique_ptr<rocksdb::Env> env_holder_;
};

}  // namespace hotline::testing

#endif  // HOTLINE_TESTS_SUPPORT_SERVICE_TEST_BASE_H_
