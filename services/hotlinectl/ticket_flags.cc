// The ticket commands' flags, declared for their files in ticket_command_parts.h.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/flag.h"

// Common to the updates.
ABSL_FLAG(int64_t, expected_version, 0,
          "updates: the ticket version last read (also --version=N); without it the ticket's "
          "current version is read first. Command line only, never from the environment");
ABSL_FLAG(std::string, request_id, "",
          "create, updates: idempotency key (1-64 of A-Z a-z 0-9 - _); default: a new random "
          "UUID. Repeat a call whose outcome is unknown with the same key. Command line only");
ABSL_FLAG(std::string, work_order, "",
          "the work order (工作单) acted on; urge, events: the work orders concerned "
          "(urge: repeatable or comma-separated)");
ABSL_FLAG(std::string, reason, "",
          "why: required by reject, refuse-return, return, extend, close, reopen and "
          "decide-extension --refuse; optional for merge and decide-extension --approve");

// The ticket's fields (create, confirm) and list filters; --kind and --category are defined in
// client_util.cc, since the knowledge-base commands read them too (as --page_size, --comment).
ABSL_FLAG(std::string, channel, "", "intake channel (受理渠道); list: repeatable");
ABSL_FLAG(std::string, urgency, "", "urgency; create default: normal; list: repeatable");
ABSL_FLAG(std::string, content, "", "create: the matter in the caller's words");
ABSL_FLAG(std::string, caller_name, "", "create: the caller's name; empty: anonymous");
ABSL_FLAG(std::string, caller_phone, "",
          "create: the caller's phone for the callback; list: only this caller's tickets");
ABSL_FLAG(bool, confidential, false,
          "create: keep the caller's identity from the departments (保密)");
ABSL_FLAG(std::string, address, "", "create: where the matter is, as the caller said it");
ABSL_FLAG(std::string, district, "", "create: 6-digit district code (行政区划代码)");
ABSL_FLAG(std::string, point, "", "create: map position LAT,LNG (WGS-84)");
ABSL_FLAG(std::string, answer, "", "answer: what the agent told the caller");
ABSL_FLAG(std::vector<std::string>, cite, {},
          "answer: knowledge-base passages the answer came from, comma-separated, each "
          "ENTRY, ENTRY#ORDINAL or ENTRY@VERSION#ORDINAL (as kb search --json shows them)");

// Dispatch and re-routing.
ABSL_FLAG(std::string, into, "", "merge: the ticket of the same matter, which remains");
ABSL_FLAG(std::string, lead, "", "dispatch, reopen: the lead department (主办)");
ABSL_FLAG(int32_t, lead_days, 0, "dispatch, reopen: the lead's limit in working days");
ABSL_FLAG(int32_t, lead_hours, 0, "dispatch, reopen: the lead's limit in hours (emergencies)");
ABSL_FLAG(std::string, lead_deadline, "", "dispatch, reopen: the lead's deadline");
ABSL_FLAG(std::string, assist, "",
          "dispatch, reopen: an assisting department (协办) as DEPT or DEPT:LIMIT; repeatable");
ABSL_FLAG(std::string, instructions, "",
          "dispatch, redispatch: instructions to the departments (派单意见)");
ABSL_FLAG(std::string, to, "", "redispatch: the department to re-route the work order to");
ABSL_FLAG(bool, withdraw, false,
          "redispatch: withdraw the assisting work order without a replacement");
ABSL_FLAG(int32_t, days, 0,
          "working days: redispatch --to's limit, extend's extra time, decide-extension's grant");
ABSL_FLAG(int32_t, hours, 0, "hours, like --days (emergencies)");
ABSL_FLAG(std::string, deadline, "", "an explicit deadline, instead of --days or --hours");

// Handling, supervision, callback.
ABSL_FLAG(std::string, text, "", "the text the command records (see its summary)");
ABSL_FLAG(bool, approve, false, "decide-extension: approve (同意延期)");
ABSL_FLAG(bool, refuse, false, "decide-extension: refuse (不同意延期); needs --reason");
ABSL_FLAG(std::string, message, "", "urge: the urging notice (督办意见)");
ABSL_FLAG(std::string, result, "", "callback: the outcome of the call (回访结果)");

// Reads.
ABSL_FLAG(bool, events, false, "get: also print the ticket's history");
ABSL_FLAG(std::string, state, "", "list: ticket states; repeatable or comma-separated");
ABSL_FLAG(std::string, work_order_state, "",
          "list: tickets with a current work order in one of these states; repeatable");
ABSL_FLAG(std::string, warning, "", "list: ticket warning levels; repeatable");
ABSL_FLAG(std::string, department, "",
          "list: tickets on which this department holds a current work order; watch: the "
          "department to follow (departments: empty means their own)");
ABSL_FLAG(bool, overdue, false, "list: only tickets with an open work order past its deadline");
ABSL_FLAG(std::string, deadline_after, "", "list: deadline at or after this time");
ABSL_FLAG(std::string, deadline_before, "", "list: deadline before this time");
ABSL_FLAG(std::string, created_after, "", "list: created at or after this time");
ABSL_FLAG(std::string, created_before, "", "list: created before this time");
ABSL_FLAG(std::string, page_token, "", "list, events: the page after this token");
ABSL_FLAG(std::string, order_by, "",
          "list: create_time, update_time or deadline, each optionally followed by ' desc' "
          "(default: 'create_time desc')");
ABSL_FLAG(std::string, cursor, "", "watch: resume just after this cursor");
ABSL_FLAG(bool, from_now, false, "watch: without --cursor, skip the history");
