// Rebuilds what a ticket's events say about it, independently of the stored Ticket: used to
// check after a crash that every ticket's state equals the replay of its history, and by
// projections that are rebuilt from the event log.
#ifndef HOTLINE_SERVICES_TICKET_REPLAY_H_
#define HOTLINE_SERVICES_TICKET_REPLAY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hotline/ticket/v1/ticket.pb.h"

namespace hotline::ticket {

struct ReplayedTicket {
  v1::TicketState state = v1::TICKET_STATE_UNSPECIFIED;
  int64_t version = 0;
  int32_t cycle = 0;
  std::map<std::string, v1::WorkOrderState> work_orders;
};

// Folds the events (in sequence order, starting with TICKET_CREATED) by their types alone.
// Fails if the history has a gap or does not start with the creation.
absl::StatusOr<ReplayedTicket> Replay(const std::vector<v1::TicketEvent>& events);

}  // namespace hotline::ticket

#endif  // HOTLINE_SERVICES_TICKET_REPLAY_H_
