// The knowledge-base gRPC service (hotline.kb.v1.KnowledgeBaseService).
#ifndef HOTLINE_SERVICES_KB_KB_SERVICE_H_
#define HOTLINE_SERVICES_KB_KB_SERVICE_H_

#include <memory>

#include "common/auth.h"
#include "common/rocks_store.h"
#include "common/worker_pool.h"
#include "hotline/kb/v1/kb.grpc.pb.h"

namespace hotline::kb {

// Column families of the knowledge-base store.
inline constexpr char kEntriesFamily[] = "entries";

class KnowledgeBaseService final : public v1::KnowledgeBaseService::CallbackService {
 public:
  static constexpr char kName[] = "hotline.kb.v1.KnowledgeBaseService";

  KnowledgeBaseService(std::shared_ptr<const TokenRegistry> tokens, RocksStore* store);

  grpc::ServerUnaryReactor* GetEntry(grpc::CallbackServerContext* context,
                                     const v1::GetEntryRequest* request,
                                     v1::Entry* response) override;

 private:
  std::shared_ptr<const TokenRegistry> tokens_;
  RocksStore* store_;
  WorkerPool workers_{"kb-worker", 4};
};

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_KB_SERVICE_H_
