// kb_server: the knowledge-base service.
#include <glog/logging.h>

#include <thread>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "common/server_main.h"
#include "common/status_macros.h"
#include "common/telemetry.h"
#include "services/kb/demo_loader.h"
#include "services/kb/kb_flags.h"
#include "services/kb/kb_service.h"

ABSL_DECLARE_FLAG(std::string, synonyms);
ABSL_DECLARE_FLAG(std::string, domain_dict);
ABSL_FLAG(std::string, taxonomy, "services/kb/ingest/data/taxonomy.txt",
          "category taxonomy for classifying imported entries; empty: no classification");
ABSL_FLAG(std::string, idf, hotline::kb::ingest::kDefaultJiebaIdfPath,
          "IDF table for tagging imported entries (Debian python3-jieba); empty: no tagging");
ABSL_FLAG(std::string, demo_data, "",
          "demo knowledge base (JSON Lines, services/kb/demo/README.md) imported at start-up "
          "when the store holds no entry");

ABSL_FLAG(absl::Duration, status_sweep, absl::Minutes(1),
          "how often entries whose change of status has come due (scheduled changes, effective "
          "and expiry dates) are changed; 0: only at start-up");

namespace {

// Runs the service's dated status changes every `period` until stopped (a policy repealed as of
// tomorrow must leave search at midnight, not at the next restart), and forgets request ids
// and gap occurrences past their retention.
class StatusSweeper {
 public:
  StatusSweeper(hotline::kb::KnowledgeBaseService* service, absl::Duration period)
      : service_(service) {
    if (period <= absl::ZeroDuration()) return;
    thread_ = std::thread([this, period] {
      absl::MutexLock lock(&mu_);
      while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), period)) {
        mu_.Unlock();
        absl::StatusOr<int> changed = service_->ApplyDueStatusChanges();
        if (!changed.ok()) LOG(ERROR) << "dated status changes: " << changed.status();
        absl::StatusOr<int> pruned = service_->PruneRecords();
        if (!pruned.ok()) LOG(ERROR) << "pruning old records: " << pruned.status();
        mu_.Lock();
      }
    });
  }
  ~StatusSweeper() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  hotline::kb::KnowledgeBaseService* service_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

absl::StatusOr<std::vector<hotline::HostedService>> CreateServices(
    const hotline::ServerContext& server) {
  namespace kb = hotline::kb;
  kb::KnowledgeBaseServiceOptions options;
  ASSIGN_OR_RETURN(options.analyzer, kb::CreateAnalyzerFromFlags());
  options.ranking = kb::RankingParamsFromFlags();
  options.synonyms_path = absl::GetFlag(FLAGS_synonyms);
  if (server.clock != nullptr) options.clock = server.clock;
  if (std::string taxonomy = absl::GetFlag(FLAGS_taxonomy); !taxonomy.empty()) {
    ASSIGN_OR_RETURN(options.classifier, kb::ingest::Classifier::Load(taxonomy, options.analyzer));
  }
  if (std::string idf = absl::GetFlag(FLAGS_idf); !idf.empty()) {
    kb::ingest::TaggerOptions tagging;
    tagging.idf_path = idf;
    tagging.domain_dict_paths = {absl::GetFlag(FLAGS_domain_dict)};
    ASSIGN_OR_RETURN(options.tagger, kb::ingest::Tagger::Create(tagging, options.analyzer));
  }
  auto service =
      std::make_shared<kb::KnowledgeBaseService>(server.tokens, server.store, std::move(options));
  RETURN_IF_ERROR(service->Init());

  // The demo data goes through the same pipeline as an import, once, into an empty store: a
  // restart keeps what editors changed since.
  if (std::string demo = absl::GetFlag(FLAGS_demo_data); !demo.empty()) {
    ASSIGN_OR_RETURN(bool has_entries, service->HasEntries());
    if (!has_entries) {
      ASSIGN_OR_RETURN(std::vector<hotline::kb::v1::ImportItem> items,
                       kb::ReadDemoKnowledgeBase(demo));
      hotline::kb::v1::ImportHeader header;
      header.set_source_name(kb::kDemoSourceName);
      hotline::Principal loader{"demo-loader", hotline::Role::kAdmin, "", ""};
      ASSIGN_OR_RETURN(hotline::kb::v1::ImportResponse imported,
                       service->ImportItems(loader, header, items));
      LOG(INFO) << "demo data " << demo << ": " << imported.totals().ShortDebugString();
      for (const auto& r : imported.results()) {
        if (r.outcome() == hotline::kb::v1::IMPORT_OUTCOME_REJECTED) {
          LOG(WARNING) << "demo entry " << r.source_id() << " rejected: " << r.message();
        }
      }
    }
  }
  // The worker queue on /metrics; the gauge shares ownership of the service it reads.
  auto gauge = std::shared_ptr<hotline::telemetry::GaugeHandle>(hotline::telemetry::AddGauge(
      "hotline_worker_queue_length", "calls waiting for a worker thread", {{"pool", "kb-worker"}},
      [raw = service.get()] { return static_cast<double>(raw->worker_queue_length()); }));
  // The sweeper shares ownership of the service too, and stops before it goes.
  auto sweeper = std::make_shared<StatusSweeper>(service.get(), absl::GetFlag(FLAGS_status_sweep));
  hotline::HostedService hosted;
  hosted.on_shutdown = [gauge, sweeper, keep = service]() mutable {
    sweeper.reset();
    gauge.reset();
  };
  hosted.service = std::move(service);
  hosted.health_name = kb::KnowledgeBaseService::kName;
  return std::vector<hotline::HostedService>{std::move(hosted)};
}

}  // namespace

int main(int argc, char** argv) {
  return hotline::RunServerMain(argc, argv, "kb_server: the 12345 hotline knowledge-base service",
                                hotline::kb::KnowledgeBaseService::Families(), CreateServices);
}
