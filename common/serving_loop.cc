#include "common/serving_loop.h"

#include <glog/logging.h>

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"

namespace hotline {

void ServingEvents::RequestStop() {
  absl::MutexLock lock(&mu_);
  stop_ = true;
}

void ServingEvents::StoreUnwritable(const absl::Status& why) {
  absl::MutexLock lock(&mu_);
  store_unwritable_ = true;
}

ServingEvents::Event ServingEvents::Wait() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](ServingEvents* e)
           ABSL_EXCLUSIVE_LOCKS_REQUIRED(e->mu_) { return e->stop_ || e->store_unwritable_; },
      this));
  if (stop_) return Event::kStop;
  store_unwritable_ = false;
  return Event::kStoreUnwritable;
}

bool ServingEvents::WaitForStop(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&stop_), timeout);
}

namespace {

// The listen address with the port a first start bound, so that a rebuild comes back where
// clients already look (a configured port stays as it is).
std::string WithPort(const std::string& address, int port) {
  return absl::StrCat(address.substr(0, address.rfind(':')), ":", port);
}

}  // namespace

int ServeUntilStopped(ServingOptions options, std::shared_ptr<const TokenRegistry> tokens,
                      Clock* clock, const ServiceFactory& factory, ServingEvents* events) {
  options.store.on_unwritable = [events](const absl::Status& why) { events->StoreUnwritable(why); };
  for (int generation = 0;; ++generation) {
    absl::StatusOr<std::unique_ptr<RocksStore>> store = RocksStore::Open(options.store);
    if (!store.ok()) {
      LOG(ERROR) << store.status();
      // A store that never opened is a configuration error; one that opened before is a disk
      // still failing, which may come back.
      if (generation == 0) return 1;
      if (events->WaitForStop(options.reopen_interval)) return 0;
      continue;
    }
    ServerContext context{tokens, store->get(), clock};
    absl::StatusOr<std::vector<HostedService>> built = factory(context);
    if (!built.ok()) {
      LOG(ERROR) << built.status();
      return 1;
    }
    std::vector<HostedService> services = std::move(*built);
    auto host = std::make_unique<ServiceHost>(options.host);
    for (HostedService& s : services) {
      host->AddService(s.service.get(), s.health_name);
      if (s.on_shutdown) host->AddShutdownHook(s.on_shutdown);
    }
    if (absl::Status started = host->Start(); !started.ok()) {
      LOG(ERROR) << started;
      return 1;
    }
    options.host.listen_address = WithPort(options.host.listen_address, host->port());
    if (absl::Status written = WritePortFile(options.port_file, host->port()); !written.ok()) {
      LOG(ERROR) << written;
      return 1;
    }
    if (options.on_serving) options.on_serving(host->port());

    const ServingEvents::Event event = events->Wait();
    host->Shutdown();
    host.reset();
    // Services (and their worker pools) go before the store they write to.
    services.clear();
    store->reset();
    if (event == ServingEvents::Event::kStop) return 0;
    LOG(WARNING) << "rebuilding the services on a fresh open of the store";
  }
}

}  // namespace hotline
