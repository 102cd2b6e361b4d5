#include "services/ticket/transitions.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hotline::ticket {

const TransitionSpec* TransitionForRpc(absl::string_view rpc) {
  for (const TransitionSpec& t : Transitions()) {
    if (rpc == t.rpc) return &t;
  }
  return nullptr;
}

const TransitionSpec* TransitionForCommand(absl::string_view command) {
  for (const TransitionSpec& t : Transitions()) {
    if (command == t.command) return &t;
  }
  return nullptr;
}

const EventSpec* EventFor(v1::EventType type) {
  for (const EventSpec& e : Events()) {
    if (e.type == type) return &e;
  }
  return nullptr;
}

namespace {

template <typename State, typename NameOf>
std::string Alternatives(const std::vector<State>& states, NameOf name_of) {
  std::vector<std::string> names;
  for (State s : states) names.push_back(name_of(s));
  return absl::StrJoin(names, " or ");
}

}  // namespace

absl::Status CheckTicketState(const TransitionSpec& spec, const v1::Ticket& t) {
  if (spec.ticket_states.empty()) return absl::OkStatus();
  for (v1::TicketState s : spec.ticket_states) {
    if (t.state() == s) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "ticket ", t.id(), " is in state ", v1::TicketState_Name(t.state()), "; ", spec.rpc,
      " requires ",
      Alternatives(spec.ticket_states, [](v1::TicketState s) { return v1::TicketState_Name(s); })));
}

absl::Status CheckWorkOrderState(const TransitionSpec& spec, const v1::WorkOrder& w) {
  if (spec.work_order_states.empty()) return absl::OkStatus();
  for (v1::WorkOrderState s : spec.work_order_states) {
    if (w.state() == s) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "work order ", w.id(), " is in state ", v1::WorkOrderState_Name(w.state()), "; ", spec.rpc,
      " requires ", Alternatives(spec.work_order_states, [](v1::WorkOrderState s) {
        return v1::WorkOrderState_Name(s);
      })));
}

std::string RolesText(const TransitionSpec& spec) {
  std::vector<std::string> names;
  for (Role r : spec.roles) {
    names.push_back(r == Role::kDepartment && spec.names_work_order
                        ? "department (its own work orders)"
                        : std::string(RoleName(r)));
  }
  return absl::StrJoin(names, ", ");
}

std::string VocabularyScript() {
  nlohmann::json events = nlohmann::json::object();
  for (const EventSpec& e : Events()) events[v1::EventType_Name(e.type)] = e.label;
  nlohmann::json actions = nlohmann::json::object();
  // For each console route: who may take it and from which states, so that a page offers a
  // form only to those the service would let through (the service still decides).
  nlohmann::json routes = nlohmann::json::object();
  for (const TransitionSpec& t : Transitions()) {
    actions[t.console_route != nullptr ? t.console_route : t.command] = t.label;
    if (t.console_route == nullptr) continue;
    nlohmann::json roles = nlohmann::json::array({std::string(RoleName(Role::kAdmin))});
    for (Role r : t.roles) roles.push_back(std::string(RoleName(r)));
    nlohmann::json ticket_states = nlohmann::json::array();
    for (v1::TicketState s : t.ticket_states) ticket_states.push_back(v1::TicketState_Name(s));
    nlohmann::json work_order_states = nlohmann::json::array();
    for (v1::WorkOrderState s : t.work_order_states) {
      work_order_states.push_back(v1::WorkOrderState_Name(s));
    }
    routes[t.console_route] = {{"label", t.label},
                               {"roles", roles},
                               {"ticket_states", ticket_states},
                               {"work_order_states", work_order_states}};
  }
  const nlohmann::json vocabulary = {{"eventType", events}, {"action", actions}, {"route", routes}};
  return absl::StrCat(
      "\"use strict\";\n// The ticket transitions' and events' labels, and who may take each "
      "console "
      "route from which states, from the service's table "
      "(services/ticket/transitions.h).\nvar HOTLINE_TICKET_VOCABULARY = ",
      vocabulary.dump(), ";\n");
}

}  // namespace hotline::ticket
