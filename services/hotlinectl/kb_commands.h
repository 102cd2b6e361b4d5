// The knowledge-base commands (import, search, get, gaps, feedback, stats): one implementation
// behind two entry points, `kbctl COMMAND ...` for editors and `hotlinectl kb COMMAND ...` in the
// console that also drives tickets.
#ifndef HOTLINE_SERVICES_HOTLINECTL_KB_COMMANDS_H_
#define HOTLINE_SERVICES_HOTLINECTL_KB_COMMANDS_H_

#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace hotline::cli {

// Flags of the kb commands that may be repeated; see PrepareCommandLine().
std::set<std::string> KbListFlags();

// One line per kb command, each starting with `prefix` ("kb " in hotlinectl, "" in kbctl), for
// the program's usage message.
std::string KbCommandSummary(absl::string_view prefix);

// For `... COMMAND ... --help`: the kb command named at or after argv[from] when a help flag
// follows it, so that the program shows that command's help rather than every flag it has;
// empty otherwise.
std::string KbCommandAskingForHelp(int argc, char** argv, int from);

// Runs one kb command; `args` are the positional arguments, the command name first. `invoked_as`
// is how a user calls these commands ("kbctl", "hotlinectl kb"), for help and error hints.
// Returns the exit code.
int RunKbCommand(const std::vector<std::string>& args, absl::string_view invoked_as);

}  // namespace hotline::cli

#endif  // HOTLINE_SERVICES_HOTLINECTL_KB_COMMANDS_H_
