// Tickets, work orders and events as hotlinectl prints them. Times are in the hotline's time
// zone; free text keeps its Chinese as is.
#ifndef HOTLINE_SERVICES_HOTLINECTL_TICKET_TEXT_H_
#define HOTLINE_SERVICES_HOTLINECTL_TICKET_TEXT_H_

#include <ostream>
#include <string>

#include "hotline/ticket/v1/ticket.pb.h"

namespace hotline::cli::ticket_text {

// One line per event: its time, type, actor and details.
std::string EventLine(const ticket::v1::TicketEvent& e, bool with_ticket_id);
void PrintTicket(std::ostream& out, const ticket::v1::Ticket& t, bool with_events);
void PrintTicketList(std::ostream& out, const ticket::v1::ListTicketsResponse& response);

}  // namespace hotline::cli::ticket_text

#endif  // HOTLINE_SERVICES_HOTLINECTL_TICKET_TEXT_H_
