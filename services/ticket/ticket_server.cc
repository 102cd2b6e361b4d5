// ticket_server: the ticket service.
#include "common/server_main.h"
#include "services/ticket/ticket_service.h"

int main(int argc, char** argv) {
  return hotline::RunServerMain(
      argc, argv, "ticket_server: the 12345 hotline ticket service",
      {hotline::ticket::kTicketsFamily},
      [](const hotline::ServerContext& server) -> std::vector<hotline::HostedService> {
        return {{std::make_shared<hotline::ticket::TicketService>(server.tokens, server.store),
                 hotline::ticket::TicketService::kName}};
      });
}
