// `hotlinectl account ...` and `hotlinectl audit ...`: people's accounts and the audit trail
// of the identity service (hotline.identity.v1), for admins. Passwords are read from standard
// input, never from the command line (where `ps` and shell history would keep them).
#ifndef HOTLINE_SERVICES_HOTLINECTL_ACCOUNT_COMMANDS_H_
#define HOTLINE_SERVICES_HOTLINECTL_ACCOUNT_COMMANDS_H_

#include <string>
#include <vector>

namespace hotline::cli {

std::string AccountCommandSummary();

// `args`: the positional arguments after "account" or "audit" (the command name first).
int RunAccountCommand(const std::vector<std::string>& args);
int RunAuditCommand(const std::vector<std::string>& args);

}  // namespace hotline::cli

#endif  // HOTLINE_SERVICES_HOTLINECTL_ACCOUNT_COMMANDS_H_
