// kb_server: the knowledge-base service.
#include <glog/logging.h>

#include "common/server_main.h"
#include "services/kb/kb_service.h"

int main(int argc, char** argv) {
  return hotline::RunServerMain(
      argc, argv, "kb_server: the 12345 hotline knowledge-base service",
      {hotline::kb::kEntriesFamily},
      [](const hotline::ServerContext& server) -> absl::StatusOr<std::vector<hotline::HostedService>> {
        return std::vector<hotline::HostedService>{{std::make_shared<hotline::kb::KnowledgeBaseService>(server.tokens, server.store),
                 hotline::kb::KnowledgeBaseService::kName}};
      });
}
