// The ticket gRPC service (hotline.ticket.v1.TicketService).
#ifndef HOTLINE_SERVICES_TICKET_TICKET_SERVICE_H_
#define HOTLINE_SERVICES_TICKET_TICKET_SERVICE_H_

#include <memory>

#include "common/auth.h"
#include "common/rocks_store.h"
#include "common/worker_pool.h"
#include "hotline/ticket/v1/ticket.grpc.pb.h"

namespace hotline::ticket {

// Column families of the ticket store.
inline constexpr char kTicketsFamily[] = "tickets";

class TicketService final : public v1::TicketService::CallbackService {
 public:
  static constexpr char kName[] = "hotline.ticket.v1.TicketService";

  TicketService(std::shared_ptr<const TokenRegistry> tokens, RocksStore* store);

  grpc::ServerUnaryReactor* GetTicket(grpc::CallbackServerContext* context,
                                      const v1::GetTicketRequest* request,
                                      v1::Ticket* response) override;

 private:
  std::shared_ptr<const TokenRegistry> tokens_;
  RocksStore* store_;
  WorkerPool workers_{"ticket-worker", 4};
};

}  // namespace hotline::ticket

#endif  // HOTLINE_SERVICES_TICKET_TICKET_SERVICE_H_
