// The transition table against the contract: every update rpc of ticket.proto has exactly one
// row, each row says of its request what the request really has, and every event type has a
// name and a label.
#include "services/ticket/transitions.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hotline::ticket {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;

const google::protobuf::ServiceDescriptor& Service() {
  return *v1::Ticket::descriptor()->file()->FindServiceByName("TicketService");
}

// An update rpc: it takes an expected_version and returns the Ticket.
bool IsUpdate(const MethodDescriptor& m) {
  return m.input_type()->FindFieldByName("expected_version") != nullptr &&
         m.output_type() == v1::Ticket::descriptor();
}

TEST(TransitionTableTest, EveryUpdateRpcHasOneRowAndEveryRowIsAnUpdateRpc) {
  std::set<std::string> updates;
  for (int i = 0; i < Service().method_count(); ++i) {
    if (IsUpdate(*Service().method(i))) updates.insert(Service().method(i)->name());
  }
  std::set<std::string> rows;
  for (const TransitionSpec& t : Transitions()) {
    EXPECT_TRUE(rows.insert(t.rpc).second) << t.rpc << " has two rows";
    const MethodDescriptor* m = Service().FindMethodByName(t.rpc);
    ASSERT_NE(m, nullptr) << t.rpc << " is not an rpc of TicketService";
    EXPECT_TRUE(IsUpdate(*m)) << t.rpc;
    EXPECT_EQ(m->input_type()->name(), absl::StrCat(t.rpc, "Request"));
  }
  EXPECT_EQ(rows, updates);
}

TEST(TransitionTableTest, TheHandlerListHasEveryRowButMerge) {
  std::set<std::string> handled;
#define HOTLINE_COLLECT(Rpc, Method, Target) handled.insert(#Rpc);
  HOTLINE_TICKET_UPDATES(HOTLINE_COLLECT)
#undef HOTLINE_COLLECT
  std::set<std::string> rows;
  for (const TransitionSpec& t : Transitions()) {
    if (std::string(t.rpc) != "MergeTicket") rows.insert(t.rpc);
  }
  EXPECT_EQ(handled, rows);
}

TEST(TransitionTableTest, RowsDescribeTheirRequests) {
  std::set<std::string> commands, routes;
  for (const TransitionSpec& t : Transitions()) {
    SCOPED_TRACE(t.rpc);
    const Descriptor* request = Service().FindMethodByName(t.rpc)->input_type();
    const FieldDescriptor* work_order = request->FindFieldByName("work_order_id");
    EXPECT_EQ(t.names_work_order, work_order != nullptr &&
                                      work_order->type() == FieldDescriptor::TYPE_STRING &&
                                      !work_order->is_repeated());
    EXPECT_EQ(t.reason != ReasonUse::kNone, request->FindFieldByName("reason") != nullptr);
    for (const TextFlag& text : t.text_flags) {
      const FieldDescriptor* field = request->FindFieldByName(text.field);
      ASSERT_NE(field, nullptr) << text.field;
      EXPECT_EQ(field->type(), FieldDescriptor::TYPE_STRING) << text.field;
    }
    EXPECT_FALSE(t.roles.empty());
    for (Role r : t.roles) EXPECT_NE(r, Role::kAdmin) << "admin is always allowed";
    EXPECT_TRUE(t.label != nullptr && *t.label != '\0');
    ASSERT_NE(t.command, nullptr);
    EXPECT_TRUE(commands.insert(t.command).second) << t.command;
    EXPECT_TRUE(absl::StartsWith(t.synopsis, "ID")) << t.synopsis;
    if (t.console_route != nullptr) {
      EXPECT_TRUE(routes.insert(t.console_route).second) << t.console_route;
    }
    EXPECT_TRUE(t.names_work_order || t.work_order_states.empty());
    EXPECT_EQ(TransitionForRpc(t.rpc), &t);
    EXPECT_EQ(TransitionForCommand(t.command), &t);
  }
  EXPECT_EQ(TransitionForRpc("GetTicket"), nullptr);
}

TEST(TransitionTableTest, EveryEventTypeHasOneNameAndLabel) {
  const google::protobuf::EnumDescriptor* types = v1::EventType_descriptor();
  std::set<std::string> names;
  for (int i = 0; i < types->value_count(); ++i) {
    const auto type = static_cast<v1::EventType>(types->value(i)->number());
    if (type == v1::EVENT_TYPE_UNSPECIFIED) {
      EXPECT_EQ(EventFor(type), nullptr);
      continue;
    }
    const EventSpec* e = EventFor(type);
    ASSERT_NE(e, nullptr) << types->value(i)->name() << " has no row in Events()";
    EXPECT_TRUE(names.insert(e->name).second) << e->name;
    EXPECT_TRUE(e->label != nullptr && *e->label != '\0');
  }
  EXPECT_EQ(Events().size(), static_cast<size_t>(types->value_count() - 1));
}

TEST(TransitionTableTest, StateChecksNameTheStateAndWhatTheRpcRequires) {
  const TransitionSpec& reopen = *TransitionForRpc("ReopenTicket");
  v1::Ticket t;
  t.set_id("T-1");
  t.set_state(v1::TICKET_STATE_IN_PROGRESS);
  absl::Status refused = CheckTicketState(reopen, t);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            "ticket T-1 is in state TICKET_STATE_IN_PROGRESS; ReopenTicket requires "
            "TICKET_STATE_PENDING_CALLBACK or TICKET_STATE_CLOSED");
  t.set_state(v1::TICKET_STATE_CLOSED);
  EXPECT_TRUE(CheckTicketState(reopen, t).ok());

  const TransitionSpec& sign = *TransitionForRpc("SignWorkOrder");
  v1::WorkOrder w;
  w.set_id("T-1-W1");
  w.set_state(v1::WORK_ORDER_STATE_SIGNED);
  EXPECT_EQ(CheckWorkOrderState(sign, w).message(),
            "work order T-1-W1 is in state WORK_ORDER_STATE_SIGNED; SignWorkOrder requires "
            "WORK_ORDER_STATE_PENDING_SIGN");
  w.set_state(v1::WORK_ORDER_STATE_PENDING_SIGN);
  EXPECT_TRUE(CheckWorkOrderState(sign, w).ok());
}

TEST(TransitionTableTest, RolesAreShownAsTheCliPrintsThem) {
  EXPECT_EQ(RolesText(*TransitionForRpc("SignWorkOrder")), "department (its own work orders)");
  EXPECT_EQ(RolesText(*TransitionForRpc("RecordCallback")), "agent, callback, supervisor");
}

TEST(TransitionTableTest, TheVocabularyScriptHoldsEveryLabel) {
  const std::string script = VocabularyScript();
  const std::string prefix = "var HOTLINE_TICKET_VOCABULARY = ";
  const size_t start = script.find(prefix);
  ASSERT_NE(start, std::string::npos) << script;
  const size_t end = script.rfind(";\n");
  const nlohmann::json vocabulary =
      nlohmann::json::parse(script.substr(start + prefix.size(), end - start - prefix.size()));
  for (const EventSpec& e : Events()) {
    EXPECT_EQ(vocabulary["eventType"][v1::EventType_Name(e.type)], e.label);
  }
  EXPECT_EQ(vocabulary["action"]["note"], "办理进展");
  EXPECT_EQ(vocabulary["action"]["extension"], "申请延期");
  // Who may take a console route, and from which states, as the table says.
  const nlohmann::json& supplement = vocabulary["route"]["supplement"];
  EXPECT_EQ(supplement["label"], "补充说明");
  EXPECT_EQ(supplement["roles"], nlohmann::json::array({"admin", "reviewer"}));
  EXPECT_EQ(supplement["ticket_states"],
            nlohmann::json::array({"TICKET_STATE_IN_PROGRESS", "TICKET_STATE_PENDING_REDISPATCH"}));
  EXPECT_EQ(vocabulary["route"]["sign"]["work_order_states"],
            nlohmann::json::array({"WORK_ORDER_STATE_PENDING_SIGN"}));
}

}  // namespace
}  // namespace hotline::ticket
