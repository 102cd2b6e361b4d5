#include "services/hotlinectl/ticket_text.h"

#include <algorithm>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/hotlinectl/client_util.h"
#include "services/hotlinectl/ticket_names.h"

namespace hotline::cli::ticket_text {

namespace api = ::hotline::ticket::v1;
using ticket_names::kCallbackResults;
using ticket_names::kChannels;
using ticket_names::kEventTypes;
using ticket_names::kExtensionStates;
using ticket_names::kKinds;
using ticket_names::kRoles;
using ticket_names::kTicketStates;
using ticket_names::kUrgencies;
using ticket_names::kWarnings;
using ticket_names::kWorkOrderRoles;
using ticket_names::kWorkOrderStates;
using ticket_names::Name;
using ticket_names::Show;

namespace {

std::string LimitText(const api::TimeLimit& limit) {
  switch (limit.limit_case()) {
    case api::TimeLimit::kWorkingDays:
      return absl::StrCat(limit.working_days(), " working days");
    case api::TimeLimit::kHours:
      return absl::StrCat(limit.hours(), " hours");
    case api::TimeLimit::kDeadline:
      return absl::StrCat("until ", FormatTimestamp(limit.deadline()));
    case api::TimeLimit::LIMIT_NOT_SET:
      break;
  }
  return "default limit";
}

std::string ActorText(const api::Actor& actor) {
  if (actor.principal().empty()) return "-";
  std::string role = Name(kRoles, actor.role());
  if (!actor.department_id().empty() && actor.department_id() != actor.principal()) {
    absl::StrAppend(&role, " ", actor.department_id());
  }
  return absl::StrCat(actor.principal(), " (", role, ")");
}

void PrintIndented(std::ostream& out, absl::string_view text, absl::string_view indent) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    out << indent << absl::StripTrailingAsciiWhitespace(line) << "\n";
  }
}

// "kb-123#4 第十二条 《...》 (湘政发〔2024〕1号)": what an answer on the spot quoted.
std::string CitationText(const api::KnowledgeCitation& c) {
  std::string text = absl::StrCat(c.entry_id(), "#", c.passage_ordinal());
  if (!c.passage_label().empty()) absl::StrAppend(&text, " ", c.passage_label());
  if (!c.title().empty()) absl::StrAppend(&text, " 《", c.title(), "》");
  if (!c.doc_number().empty()) absl::StrAppend(&text, " (", c.doc_number(), ")");
  return text;
}

// The typed details of an event, on one line.
std::string EventDetails(const api::TicketEvent& e) {
  switch (e.details_case()) {
    case api::TicketEvent::kCreated: {
      const auto& d = e.created();
      return absl::StrCat(Name(kKinds, d.kind()), " via ", Name(kChannels, d.channel()), ", ",
                          Name(kUrgencies, d.urgency()),
                          d.category_path().empty() ? "" : ", " + d.category_path());
    }
    case api::TicketEvent::kConfirmed: {
      const auto& d = e.confirmed();
      return absl::StrCat(Name(kKinds, d.kind()), ", ", Name(kUrgencies, d.urgency()),
                          d.category_path().empty() ? "" : ", " + d.category_path());
    }
    case api::TicketEvent::kMerged:
      return absl::StrCat("into ", e.merged().target_ticket_id());
    case api::TicketEvent::kDuplicateAttached:
      return absl::StrCat("duplicate ", e.duplicate_attached().duplicate_ticket_id());
    case api::TicketEvent::kDispatched: {
      const auto& d = e.dispatched();
      std::string text =
          absl::StrCat(Name(kWorkOrderRoles, d.role()), ", deadline ",
                       FormatTimestamp(d.deadline()), " (", LimitText(d.time_limit()), ")");
      if (!d.redispatched_from_work_order_id().empty()) {
        absl::StrAppend(&text, ", replaces ", d.redispatched_from_work_order_id());
      }
      if (!d.instructions().empty()) {
        absl::StrAppend(&text, ", instructions: ", OneLine(d.instructions()));
      }
      return text;
    }
    case api::TicketEvent::kRedispatched:
      return absl::StrCat("→ ", e.redispatched().new_work_order_id(), " ",
                          e.redispatched().new_department_id());
    case api::TicketEvent::kReturnRefused:
      return absl::StrCat("back to ", Name(kWorkOrderStates, e.return_refused().restored_state()));
    case api::TicketEvent::kProgressNote:
      return OneLine(e.progress_note().text());
    case api::TicketEvent::kExtensionRequested: {
      const auto& d = e.extension_requested();
      return absl::StrCat(LimitText(d.requested()), ": ", FormatTimestamp(d.current_deadline()),
                          " → ", FormatTimestamp(d.requested_deadline()));
    }
    case api::TicketEvent::kExtensionDecided: {
      const auto& d = e.extension_decided();
      return absl::StrCat("deadline ", FormatTimestamp(d.previous_deadline()), " → ",
                          FormatTimestamp(d.new_deadline()));
    }
    case api::TicketEvent::kWarning:
      return absl::StrCat("deadline ", FormatTimestamp(e.warning().deadline()));
    case api::TicketEvent::kReplied: {
      const auto& d = e.replied();
      return absl::StrCat(d.on_time() ? "on time (按期)" : "late (超期)", ": ",
                          OneLine(d.reply_text(), 60));
    }
    case api::TicketEvent::kCallback: {
      const auto& d = e.callback();
      return absl::StrCat(Show(kCallbackResults, d.result()), ", attempt ", d.attempt(), ", cycle ",
                          d.cycle(), ", lead ", d.lead_department_id(),
                          d.comment().empty() ? "" : ": " + OneLine(d.comment()));
    }
    case api::TicketEvent::kClosed: {
      const auto& d = e.closed();
      std::string text = d.callback_result() == api::CALLBACK_RESULT_UNSPECIFIED
                             ? "by decision"
                             : "after callback " + Show(kCallbackResults, d.callback_result());
      if (d.cancelled_work_order_ids_size() > 0) {
        absl::StrAppend(&text, ", cancelled ", absl::StrJoin(d.cancelled_work_order_ids(), " "));
      }
      return text;
    }
    case api::TicketEvent::kReopened: {
      const auto& d = e.reopened();
      return absl::StrCat("cycle ", d.previous_cycle(), " → ", d.new_cycle(),
                          d.automatic() ? " (dissatisfied callback)" : "");
    }
    case api::TicketEvent::kAnsweredDirectly: {
      const auto& d = e.answered_directly();
      std::vector<std::string> cited;
      for (const api::KnowledgeCitation& c : d.citations()) cited.push_back(CitationText(c));
      return absl::StrCat(OneLine(d.answer_text()),
                          cited.empty() ? "" : "; cites " + absl::StrJoin(cited, ", "));
    }
    default:
      break;
  }
  // Details without a format of their own (an event type added to the service since): their
  // `text`, if they have one.
  const google::protobuf::OneofDescriptor* details =
      api::TicketEvent::descriptor()->FindOneofByName("details");
  const google::protobuf::Reflection* reflection = e.GetReflection();
  const google::protobuf::FieldDescriptor* set = reflection->GetOneofFieldDescriptor(e, details);
  if (set == nullptr || set->message_type() == nullptr) return "";
  const google::protobuf::Message& message = reflection->GetMessage(e, set);
  const google::protobuf::FieldDescriptor* text = set->message_type()->FindFieldByName("text");
  if (text == nullptr || text->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      text->is_repeated()) {
    return "";
  }
  return OneLine(message.GetReflection()->GetString(message, text));
}

// One event on one line: "#5 2024-05-10 14:03  派单 dispatched  W2 dept-water  ...".
}  // namespace

std::string EventLine(const api::TicketEvent& e, bool with_ticket_id) {
  std::string line;
  if (with_ticket_id) absl::StrAppend(&line, e.ticket_id(), " ");
  absl::StrAppend(&line, "#", e.sequence(), " ", FormatTimestamp(e.event_time()), "  ",
                  Show(kEventTypes, e.type()));
  if (!e.work_order_id().empty()) {
    absl::StrAppend(&line, "  ", e.work_order_id(), " ", e.department_id());
  }
  if (std::string details = EventDetails(e); !details.empty()) {
    absl::StrAppend(&line, "  ", details);
  }
  if (!e.reason().empty()) absl::StrAppend(&line, "  reason: ", OneLine(e.reason()));
  absl::StrAppend(&line, "  by ", ActorText(e.actor()), "  → ",
                  Name(kTicketStates, e.ticket_state()), " v", e.ticket_version());
  return line;
}

namespace {

void PrintWorkOrder(std::ostream& out, const api::WorkOrder& w) {
  const absl::string_view pad = "      ";
  out << "  " << w.id() << "  " << Show(kWorkOrderRoles, w.role()) << "  " << w.department_id()
      << "  " << Show(kWorkOrderStates, w.state()) << "  cycle " << w.cycle() << "\n";

  out << pad << "deadline " << FormatTimestamp(w.deadline());
  if (!w.time_limit().has_deadline()) out << " (" << LimitText(w.time_limit()) << ")";
  if (w.has_original_deadline() &&
      FromProtoTime(w.original_deadline()) != FromProtoTime(w.deadline())) {
    out << ", originally " << FormatTimestamp(w.original_deadline());
  }
  out << "   warning " << Show(kWarnings, w.warning_level()) << "\n";

  out << pad << "sign by " << FormatTimestamp(w.sign_deadline());
  if (w.has_sign_time()) out << ", signed " << FormatTimestamp(w.sign_time());
  out << "; return window until " << FormatTimestamp(w.return_window_end()) << "\n";

  if (!w.instructions().empty())
    out << pad << "instructions: " << OneLine(w.instructions()) << "\n";
  if (w.has_return_time()) {
    out << pad << "returned " << FormatTimestamp(w.return_time()) << ": "
        << OneLine(w.return_reason()) << (w.return_refused() ? "  (return refused)" : "") << "\n";
  }
  if (!w.redispatched_to_work_order_id().empty()) {
    out << pad << "re-routed to " << w.redispatched_to_work_order_id() << "\n";
  }
  if (!w.redispatched_from_work_order_id().empty()) {
    out << pad << "replaces " << w.redispatched_from_work_order_id() << "\n";
  }
  const api::Extension& x = w.extension();
  if (x.state() != api::EXTENSION_STATE_UNSPECIFIED && x.state() != api::EXTENSION_STATE_NONE) {
    out << pad << "extension " << Show(kExtensionStates, x.state()) << ": asked "
        << FormatTimestamp(x.request_time()) << " for " << LimitText(x.requested()) << " (to "
        << FormatTimestamp(x.requested_deadline()) << "): " << OneLine(x.reason()) << "\n";
    if (x.has_decide_time()) {
      out << pad << "  decided " << FormatTimestamp(x.decide_time()) << " by "
          << ActorText(x.decided_by());
      if (x.has_granted_deadline()) out << ", granted " << FormatTimestamp(x.granted_deadline());
      if (!x.decision_reason().empty()) out << ": " << OneLine(x.decision_reason());
      out << "\n";
    }
  }
  if (w.urge_count() > 0) {
    out << pad << "urged " << w.urge_count() << (w.urge_count() == 1 ? " time" : " times")
        << ", last " << FormatTimestamp(w.last_urge_time()) << "\n";
  }
  if (w.state() == api::WORK_ORDER_STATE_REPLIED) {
    out << pad << "replied " << FormatTimestamp(w.reply_time())
        << (w.on_time() ? " on time (按期)" : " late (超期)") << ":\n";
    PrintIndented(out, w.reply_text(), "        ");
  }
}

}  // namespace

void PrintTicket(std::ostream& out, const api::Ticket& t, bool with_events) {
  auto field = [&out](absl::string_view label, absl::string_view value) {
    out << "  " << label << std::string(label.size() < 10 ? 10 - label.size() : 1, ' ') << value
        << "\n";
  };
  out << "Ticket " << t.id() << "   version " << t.version() << "   cycle " << t.cycle() << "\n";
  field("state", Show(kTicketStates, t.state()));
  field("kind", absl::StrCat(Show(kKinds, t.kind()), "   channel ", Show(kChannels, t.channel()),
                             "   urgency ", Show(kUrgencies, t.urgency())));
  if (!t.category_path().empty()) field("category", t.category_path());
  // The caller as the server returned it: masked or withheld for departments.
  std::vector<std::string> who;
  if (!t.caller_name().empty()) who.push_back(t.caller_name());
  if (!t.caller_phone().empty()) who.push_back(t.caller_phone());
  std::string caller = who.empty() ? "-" : absl::StrJoin(who, "  ");
  if (t.confidential()) absl::StrAppend(&caller, "  [confidential 保密]");
  field("caller", caller);
  if (const api::Location& l = t.location();
      !l.address().empty() || !l.district_code().empty() || l.has_point()) {
    std::string where = l.address();
    if (!l.district_code().empty()) absl::StrAppend(&where, " [", l.district_code(), "]");
    if (l.has_point()) {
      absl::StrAppend(&where, " (", l.point().latitude(), ",", l.point().longitude(), ")");
    }
    field("location", where);
  }
  field("created", absl::StrCat(FormatTimestamp(t.create_time()), " by ", ActorText(t.creator()),
                                "   updated ", FormatTimestamp(t.update_time())));
  if (t.has_deadline()) {
    field("deadline", absl::StrCat(FormatTimestamp(t.deadline()), "   warning ",
                                   Show(kWarnings, t.warning_level())));
  }
  if (t.has_close_time()) field("closed", FormatTimestamp(t.close_time()));
  if (!t.state_reason().empty()) field("reason", OneLine(t.state_reason()));
  if (!t.merged_into_ticket_id().empty()) field("merged to", t.merged_into_ticket_id());
  if (t.merged_ticket_ids_size() > 0) field("merged in", absl::StrJoin(t.merged_ticket_ids(), " "));
  if (!t.suspected_duplicate_of().empty()) field("duplicate?", t.suspected_duplicate_of());
  out << "  content\n";
  PrintIndented(out, t.content(), "    ");
  if (t.has_direct_answer()) {
    const api::DirectAnswer& a = t.direct_answer();
    out << "  answered on the spot (当场答复) " << FormatTimestamp(a.answer_time()) << " by "
        << ActorText(a.answered_by()) << "\n";
    PrintIndented(out, a.answer_text(), "    ");
    for (const api::KnowledgeCitation& c : a.citations()) {
      out << "    cites " << CitationText(c) << "\n";
    }
  }
  if (t.work_orders_size() > 0) {
    out << "Work orders\n";
    for (const api::WorkOrder& w : t.work_orders()) PrintWorkOrder(out, w);
  }
  if (t.callbacks_size() > 0) {
    out << "Callbacks\n";
    for (const api::CallbackRecord& c : t.callbacks()) {
      out << "  " << FormatTimestamp(c.record_time()) << "  cycle " << c.cycle() << "  "
          << Show(kCallbackResults, c.result()) << "  by " << ActorText(c.actor())
          << (c.comment().empty() ? "" : ": " + OneLine(c.comment())) << "\n";
    }
  }
  if (with_events) {
    out << "History\n";
    for (const api::TicketEvent& e : t.events()) out << "  " << EventLine(e, false) << "\n";
  }
}

// The department of the current cycle's active lead work order, or "-".
namespace {

std::string LeadDepartment(const api::Ticket& t) {
  for (const api::WorkOrder& w : t.work_orders()) {
    if (w.cycle() == t.cycle() && w.role() == api::WORK_ORDER_ROLE_LEAD &&
        w.state() != api::WORK_ORDER_STATE_REDISPATCHED &&
        w.state() != api::WORK_ORDER_STATE_CANCELLED) {
      return w.department_id();
    }
  }
  return "-";
}

}  // namespace

void PrintTicketList(std::ostream& out, const api::ListTicketsResponse& response) {
  // ASCII columns first and padded; the Chinese text last, where its width does not matter.
  std::vector<std::vector<std::string>> rows = {
      {"ID", "STATE", "KIND", "URGENCY", "WARNING", "DEADLINE", "LEAD", "CONTENT"}};
  for (const api::Ticket& t : response.tickets()) {
    std::string summary = OneLine(t.content(), 40);
    if (!t.category_path().empty()) summary = absl::StrCat("[", t.category_path(), "] ", summary);
    rows.push_back({t.id(), Name(kTicketStates, t.state()), Name(kKinds, t.kind()),
                    Name(kUrgencies, t.urgency()), Name(kWarnings, t.warning_level()),
                    t.has_deadline() ? FormatTimestamp(t.deadline()) : "-", LeadDepartment(t),
                    summary});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      absl::StrAppend(&line, row[i], std::string(widths[i] - row[i].size() + 2, ' '));
    }
    out << line << row.back() << "\n";
  }
  if (response.tickets_size() == 0) out << "(no tickets)\n";
  if (!response.next_page_token().empty()) {
    out << "next page: --page_token=" << response.next_page_token() << "\n";
  }
}

}  // namespace hotline::cli::ticket_text
