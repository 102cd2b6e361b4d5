// `hotlinectl ticket ...`: one command per rpc of hotline.ticket.v1.TicketService, for
// agents, reviewers, departments and supervisors.
#ifndef HOTLINE_SERVICES_HOTLINECTL_TICKET_COMMANDS_H_
#define HOTLINE_SERVICES_HOTLINECTL_TICKET_COMMANDS_H_

#include <set>
#include <string>
#include <vector>

namespace hotline::cli {

// Flags of the ticket commands that may be repeated (e.g. --assist, --state); see
// PrepareCommandLine().
std::set<std::string> TicketListFlags();

// One line per ticket command, for the program's usage message.
std::string TicketCommandSummary();

// Runs `hotlinectl ticket ARGS...`; `args` are the positional arguments after "ticket"
// (the command name first). Returns the exit code.
int RunTicketCommand(const std::vector<std::string>& args);

}  // namespace hotline::cli

#endif  // HOTLINE_SERVICES_HOTLINECTL_TICKET_COMMANDS_H_
