// kb_server: the knowledge-base service.
#include "common/server_main.h"
#include "services/kb/kb_service.h"

int main(int argc, char** argv) {
  return hotline::RunServerMain(
      argc, argv, "kb_server: the 12345 hotline knowledge-base service",
      {hotline::kb::kEntriesFamily},
      [](const hotline::ServerContext& server)
          -> absl::StatusOr<std::vector<hotline::HostedService>> {
        hotline::HostedService kb;
        kb.service = std::make_shared<hotline::kb::KnowledgeBaseService>(server.tokens, server.store);
        kb.health_name = hotline::kb::KnowledgeBaseService::kName;
        return std::vector<hotline::HostedService>{std::move(kb)};
      });
}
