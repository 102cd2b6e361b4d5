// The ticket service through a real gRPC server on port 0, a real RocksDB in a temporary
// directory, the real holiday calendar and the deployed configuration; time is a ManualClock.
#include "services/ticket/ticket_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/page_token.h"
#include "common/service_host.h"
#include "services/ticket/outbox_relay.h"
#include "services/ticket/replay.h"
#include "services/ticket/ticket_service_fixture.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"

namespace hotline::ticket {
namespace {

TEST_F(TicketServiceTest, FullLoopWithReturnExtensionDissatisfiedCallbackAndReopenEndsClosed) {
  v1::Ticket t = Create();
  EXPECT_EQ(t.state(), v1::TICKET_STATE_PENDING_REVIEW);
  EXPECT_EQ(t.version(), 1);
  t = Confirm(t);
  EXPECT_EQ(t.state(), v1::TICKET_STATE_PENDING_DISPATCH);
  ASSERT_TRUE(Dispatch(t, "water", {"housing"}, &t).ok());
  EXPECT_EQ(t.state(), v1::TICKET_STATE_IN_PROGRESS);
  // A complaint has 15 working days. From Thursday 26 September 2024 they run over the
  // make-up Sunday 29 September, skip National Day (1-7 October), count the make-up
  // Saturday 12 October, and end on Tuesday 22 October.
  EXPECT_EQ(FromProtoTime(Order(t, "water").deadline()), EndOfDay(2024, 10, 22));
  EXPECT_EQ(FromProtoTime(t.deadline()), EndOfDay(2024, 10, 22));

  // The water bureau returns the misrouted order; the dispatcher re-routes it to hrss.
  clock_.Advance(absl::Hours(2));
  auto ret = WorkOrderRequest<v1::ReturnWorkOrderRequest>(t, "water");
  ret.set_reason("属于人社部门职责");
  ASSERT_TRUE(stub_->ReturnWorkOrder(ContextWithToken("water").get(), ret, &t).ok());
  EXPECT_EQ(t.state(), v1::TICKET_STATE_PENDING_REDISPATCH);
  v1::RedispatchWorkOrderRequest re;
  re.set_ticket_id(t.id());
  re.set_work_order_id(Order(t, "water").id());
  re.set_expected_version(t.version());
  re.mutable_assignment()->set_department_id("hrss");
  grpc::Status s = stub_->RedispatchWorkOrder(ContextWithToken("reviewer").get(), re, &t);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(t.state(), v1::TICKET_STATE_IN_PROGRESS);
  EXPECT_EQ(Order(t, "water").state(), v1::WORK_ORDER_STATE_REDISPATCHED);
  EXPECT_EQ(Order(t, "hrss").role(), v1::WORK_ORDER_ROLE_LEAD);

  t = Sign(t, "hrss");
  t = Sign(t, "housing");
  // hrss asks for 5 more working days; the supervisor approves and the deadline moves.
  auto ext = WorkOrderRequest<v1::RequestExtensionRequest>(t, "hrss");
  ext.mutable_extension()->set_working_days(5);
  ext.set_reason("需调取社保缴费记录");
  s = stub_->RequestExtension(ContextWithToken("hrss").get(), ext, &t);
  ASSERT_TRUE(s.ok()) << s.error_message();
  absl::Time before = FromProtoTime(Order(t, "hrss").deadline());
  v1::DecideExtensionRequest decide;
  decide.set_ticket_id(t.id());
  decide.set_work_order_id(Order(t, "hrss").id());
  decide.set_expected_version(t.version());
  decide.set_decision(v1::EXTENSION_DECISION_APPROVE);
  s = stub_->DecideExtension(ContextWithToken("supervisor").get(), decide, &t);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GT(FromProtoTime(Order(t, "hrss").deadline()), before);
  EXPECT_EQ(Order(t, "hrss").extension().state(), v1::EXTENSION_STATE_APPROVED);
  EXPECT_EQ(FromProtoTime(Order(t, "hrss").original_deadline()), before);

  t = Reply(t, "housing");
  EXPECT_EQ(t.state(), v1::TICKET_STATE_IN_PROGRESS);
  t = Reply(t, "hrss");
  EXPECT_EQ(t.state(), v1::TICKET_STATE_PENDING_CALLBACK);
  EXPECT_TRUE(Order(t, "hrss").on_time());

  // Dissatisfied: a new cycle for the same departments.
  t = Callback(t, v1::CALLBACK_RESULT_DISSATISFIED);
  EXPECT_EQ(t.state(), v1::TICKET_STATE_IN_PROGRESS);
  EXPECT_EQ(t.cycle(), 2);
  EXPECT_EQ(Order(t, "hrss").cycle(), 2);
  EXPECT_EQ(Order(t, "housing").cycle(), 2);
  t = Sign(t, "hrss");
  t = Sign(t, "housing");
  t = Reply(t, "housing");
  t = Reply(t, "hrss");
  t = Callback(t, v1::CALLBACK_RESULT_SATISFIED);
  EXPECT_EQ(t.state(), v1::TICKET_STATE_CLOSED);

  v1::Ticket full = Get(t.id());
  ASSERT_GT(full.events_size(), 0);
  std::vector<v1::TicketEvent> events(full.events().begin(), full.events().end());
  std::vector<v1::EventType> types;
  for (int i = 0; i < full.events_size(); ++i) {
    EXPECT_EQ(full.events(i).sequence(), i + 1);
    types.push_back(full.events(i).type());
  }
  for (v1::EventType expected :
       {v1::EVENT_TYPE_WORK_ORDER_RETURNED, v1::EVENT_TYPE_WORK_ORDER_REDISPATCHED,
        v1::EVENT_TYPE_EXTENSION_APPROVED, v1::EVENT_TYPE_TICKET_REOPENED,
        v1::EVENT_TYPE_TICKET_CLOSED}) {
    EXPECT_NE(std::find(types.begin(), types.end(), expected), types.end())
        << v1::EventType_Name(expected);
  }
  EXPECT_EQ(std::count(types.begin(), types.end(), v1::EVENT_TYPE_CALLBACK_RECORDED), 2);
  auto replayed = Replay(events);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(replayed->state, v1::TICKET_STATE_CLOSED);
  EXPECT_EQ(replayed->version, full.version());

  // The history survives a restart.
  Stop();
  Start();
  EXPECT_EQ(Get(t.id()).events_size(), full.events_size());
}

TEST_F(TicketServiceTest, EveryOtherTransitionOfTheLoop) {
  v1::Ticket out;
  // Reject at review, with a reason.
  v1::Ticket rejected = Create();
  v1::RejectTicketRequest reject;
  reject.set_ticket_id(rejected.id());
  reject.set_expected_version(rejected.version());
  reject.set_reason("不属于政府职责范围");
  ASSERT_TRUE(stub_->RejectTicket(ContextWithToken("reviewer").get(), reject, &out).ok());
  EXPECT_EQ(out.state(), v1::TICKET_STATE_REJECTED);
  EXPECT_EQ(out.state_reason(), "不属于政府职责范围");

  // Merge a duplicate report into the ticket of the same matter.
  v1::Ticket target = Create();
  v1::Ticket duplicate = Create();
  v1::MergeTicketRequest merge;
  merge.set_ticket_id(duplicate.id());
  merge.set_expected_version(duplicate.version());
  merge.set_target_ticket_id(target.id());
  ASSERT_TRUE(stub_->MergeTicket(ContextWithToken("reviewer").get(), merge, &out).ok());
  EXPECT_EQ(out.state(), v1::TICKET_STATE_MERGED);
  EXPECT_EQ(out.merged_into_ticket_id(), target.id());
  target = Get(target.id());
  ASSERT_EQ(target.merged_ticket_ids_size(), 1);
  EXPECT_EQ(target.merged_ticket_ids(0), duplicate.id());
  EXPECT_EQ(target.version(), 2);

  // A refused return puts the work order back with the department, never to be returned again.
  v1::Ticket t = Confirm(target);
  ASSERT_TRUE(Dispatch(t, "water", {}, &t).ok());
  t = Sign(t, "water");
  auto ret = WorkOrderRequest<v1::ReturnWorkOrderRequest>(t, "water");
  ret.set_reason("应由住建部门办理");
  ASSERT_TRUE(stub_->ReturnWorkOrder(ContextWithToken("water").get(), ret, &t).ok());
  v1::RefuseReturnRequest refuse;
  refuse.set_ticket_id(t.id());
  refuse.set_work_order_id(Order(t, "water").id());
  refuse.set_expected_version(t.version());
  refuse.set_reason("供水设施属水务部门职责");
  ASSERT_TRUE(stub_->RefuseReturn(ContextWithToken("reviewer").get(), refuse, &t).ok());
  EXPECT_EQ(Order(t, "water").state(), v1::WORK_ORDER_STATE_SIGNED);
  EXPECT_EQ(t.state(), v1::TICKET_STATE_IN_PROGRESS);
  ret.set_expected_version(t.version());
  grpc::Status s = stub_->ReturnWorkOrder(ContextWithToken("water").get(), ret, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();

  // Progress notes and urging are recorded on the work order.
  auto note = WorkOrderRequest<v1::AddProgressNoteRequest>(t, "water");
  note.set_text("已现场勘查，计划周五更换加压泵");
  ASSERT_TRUE(stub_->AddProgressNote(ContextWithToken("water").get(), note, &t).ok());
  v1::UrgeTicketRequest urge;
  urge.set_ticket_id(t.id());
  urge.set_expected_version(t.version());
  urge.set_message("请加快办理");
  ASSERT_TRUE(stub_->UrgeTicket(ContextWithToken("supervisor").get(), urge, &t).ok());
  EXPECT_EQ(Order(t, "water").urge_count(), 1);

  // A refused extension leaves the deadline where it was.
  absl::Time deadline = FromProtoTime(Order(t, "water").deadline());
  auto ext = WorkOrderRequest<v1::RequestExtensionRequest>(t, "water");
  ext.mutable_extension()->set_working_days(3);
  ext.set_reason("需协调供电");
  ASSERT_TRUE(stub_->RequestExtension(ContextWithToken("water").get(), ext, &t).ok());
  v1::DecideExtensionRequest decide;
  decide.set_ticket_id(t.id());
  decide.set_work_order_id(Order(t, "water").id());
  decide.set_expected_version(t.version());
  decide.set_decision(v1::EXTENSION_DECISION_REFUSE);
  decide.set_reason("期限内可以完成");
  ASSERT_TRUE(stub_->DecideExtension(ContextWithToken("supervisor").get(), decide, &t).ok());
  EXPECT_EQ(Order(t, "water").extension().state(), v1::EXTENSION_STATE_REFUSED);
  EXPECT_EQ(FromProtoTime(Order(t, "water").deadline()), deadline);

  // A supervisor closes the ticket, cancelling the open work order, then reopens it.
  v1::CloseTicketRequest close;
  close.set_ticket_id(t.id());
  close.set_expected_version(t.version());
  close.set_reason("市民撤回诉求");
  ASSERT_TRUE(stub_->CloseTicket(ContextWithToken("supervisor").get(), close, &t).ok());
  EXPECT_EQ(t.state(), v1::TICKET_STATE_CLOSED);
  EXPECT_EQ(Order(t, "water").state(), v1::WORK_ORDER_STATE_CANCELLED);
  v1::ReopenTicketRequest reopen;
  reopen.set_ticket_id(t.id());
  reopen.set_expected_version(t.version());
  reopen.set_reason("市民再次来电");
  reopen.mutable_lead()->set_department_id("housing");
  ASSERT_TRUE(stub_->ReopenTicket(ContextWithToken("supervisor").get(), reopen, &t).ok());
  EXPECT_EQ(t.state(), v1::TICKET_STATE_IN_PROGRESS);
  EXPECT_EQ(t.cycle(), 2);
  EXPECT_EQ(Order(t, "housing").role(), v1::WORK_ORDER_ROLE_LEAD);
  v1::Ticket full = Get(t.id());
  std::vector<v1::TicketEvent> events(full.events().begin(), full.events().end());
  EXPECT_EQ(Replay(events)->state, v1::TICKET_STATE_IN_PROGRESS);
}

TEST_F(TicketServiceTest, ReturnWindowIsEnforced) {
  v1::Ticket t = Confirm(Create());
  ASSERT_TRUE(Dispatch(t, "water", {}, &t).ok());
  // Two working days from Thursday 26 September 2024: Friday 27 and the make-up Sunday 29.
  EXPECT_EQ(FromProtoTime(Order(t, "water").return_window_end()), EndOfDay(2024, 9, 29));
  clock_.Set(Shanghai(2024, 9, 30, 9));
  auto ret = WorkOrderRequest<v1::ReturnWorkOrderRequest>(t, "water");
  ret.set_reason("不属于本单位");
  v1::Ticket out;
  grpc::Status s = stub_->ReturnWorkOrder(ContextWithToken("water").get(), ret, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("return window"), std::string::npos) << s.error_message();
}

TEST_F(TicketServiceTest, TwoConcurrentDispatchesOneWins) {
  v1::Ticket t = Confirm(Create());
  std::vector<grpc::Status> results(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      v1::Ticket out;
      results[i] = Dispatch(t, i == 0 ? "water" : "housing", {}, &out);
    });
  }
  for (auto& th : threads) th.join();
  int ok = 0;
  for (const grpc::Status& s : results) {
    if (s.ok()) {
      ++ok;
    } else {
      EXPECT_TRUE(s.error_code() == grpc::StatusCode::ABORTED ||
                  s.error_code() == grpc::StatusCode::FAILED_PRECONDITION)
          << s.error_message();
    }
  }
  EXPECT_EQ(ok, 1);
  v1::Ticket stored = Get(t.id());
  EXPECT_EQ(stored.work_orders_size(), 1);
  EXPECT_EQ(stored.version(), t.version() + 1);
  std::vector<v1::TicketEvent> events(stored.events().begin(), stored.events().end());
  EXPECT_EQ(Replay(events)->state, stored.state());
}

TEST_F(TicketServiceTest, DepartmentsSeeOnlyTheirOwnWorkAndNeverThePhone) {
  v1::Ticket t = Confirm(Create("13812345678"));
  ASSERT_TRUE(Dispatch(t, "hrss", {}, &t).ok());

  // Another department can neither read nor act, and cannot probe ids.
  v1::GetTicketRequest get;
  get.set_ticket_id(t.id());
  v1::Ticket out;
  EXPECT_EQ(stub_->GetTicket(ContextWithToken("water").get(), get, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  get.set_ticket_id("T20240926-999999");
  EXPECT_EQ(stub_->GetTicket(ContextWithToken("water").get(), get, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto sign = WorkOrderRequest<v1::SignWorkOrderRequest>(t, "hrss");
  EXPECT_EQ(stub_->SignWorkOrder(ContextWithToken("water").get(), sign, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListTicketsRequest other;
  other.set_department_id("hrss");
  v1::ListTicketsResponse listed;
  EXPECT_EQ(stub_->ListTickets(ContextWithToken("water").get(), other, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Reviewers do not sign for departments.
  EXPECT_EQ(stub_->SignWorkOrder(ContextWithToken("reviewer").get(), sign, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // The department's own views mask the phone everywhere.
  v1::Ticket own = Get(t.id(), "hrss");
  EXPECT_EQ(own.caller_phone(), "138****5678");
  v1::ListTicketsRequest mine;
  ASSERT_TRUE(stub_->ListTickets(ContextWithToken("hrss").get(), mine, &listed).ok());
  ASSERT_EQ(listed.tickets_size(), 1);
  EXPECT_EQ(listed.tickets(0).caller_phone(), "138****5678");
  v1::Ticket signed_ticket;
  ASSERT_TRUE(stub_->SignWorkOrder(ContextWithToken("hrss").get(), sign, &signed_ticket).ok());
  EXPECT_EQ(signed_ticket.caller_phone(), "138****5678");
  // Supervisors see the number.
  EXPECT_EQ(Get(t.id()).caller_phone(), "13812345678");

  // Confidential reports: no name, no number.
  v1::Ticket secret = Confirm(Create("13900001111", /*confidential=*/true));
  ASSERT_TRUE(Dispatch(secret, "hrss", {}, &secret).ok());
  v1::Ticket hidden = Get(secret.id(), "hrss");
  EXPECT_EQ(hidden.caller_phone(), "");
  EXPECT_EQ(hidden.caller_name(), "");
}

TEST_F(TicketServiceTest, ErrorsFollowTheContract) {
  v1::Ticket t = Create();
  v1::Ticket out;
  // No token; wrong role.
  v1::ConfirmTicketRequest confirm;
  confirm.set_ticket_id(t.id());
  confirm.set_expected_version(1);
  EXPECT_EQ(stub_->ConfirmTicket(ContextWithToken("").get(), confirm, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub_->ConfirmTicket(ContextWithToken("editor").get(), confirm, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A field problem names the field.
  v1::CreateTicketRequest bad;
  bad.set_request_id("r-bad");
  bad.mutable_ticket()->set_kind(v1::TICKET_KIND_COMPLAINT);
  bad.mutable_ticket()->set_channel(v1::CHANNEL_WEB);
  grpc::Status s = stub_->CreateTicket(ContextWithToken("agent").get(), bad, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("ticket.content"), std::string::npos) << s.error_message();
  bad.mutable_ticket()->set_content("内容");
  bad.mutable_ticket()->set_caller_phone("12ab");
  s = stub_->CreateTicket(ContextWithToken("agent").get(), bad, &out);
  EXPECT_NE(s.error_message().find("ticket.caller_phone"), std::string::npos) << s.error_message();
  // Wrong state names the current state.
  v1::DispatchTicketRequest dispatch;
  dispatch.set_ticket_id(t.id());
  dispatch.set_expected_version(1);
  dispatch.mutable_lead()->set_department_id("water");
  s = stub_->DispatchTicket(ContextWithToken("reviewer").get(), dispatch, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("TICKET_STATE_PENDING_REVIEW"), std::string::npos);
  // A stale version is ABORTED and changes nothing.
  t = Confirm(t);
  s = stub_->ConfirmTicket(ContextWithToken("reviewer").get(), confirm, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(Get(t.id()).version(), 2);
  // Unknown department names the field.
  dispatch.set_expected_version(2);
  dispatch.mutable_lead()->set_department_id("nosuch");
  s = stub_->DispatchTicket(ContextWithToken("reviewer").get(), dispatch, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("lead.department_id"), std::string::npos);
  // Missing ticket.
  confirm.set_ticket_id("T19990101-000001");
  EXPECT_EQ(stub_->ConfirmTicket(ContextWithToken("reviewer").get(), confirm, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// A malformed time stored as sent made every later JSON rendering of the ticket fail: times
// and enums are refused on input, naming the field, and nothing is stored.
TEST_F(TicketServiceTest, MalformedTimesAndEnumsAreRefusedAndNothingIsStored) {
  v1::Ticket t = Confirm(Create());
  v1::Ticket out;
  v1::DispatchTicketRequest dispatch;
  dispatch.set_ticket_id(t.id());
  dispatch.set_expected_version(t.version());
  dispatch.mutable_lead()->set_department_id("water");
  google::protobuf::Timestamp* deadline =
      dispatch.mutable_lead()->mutable_time_limit()->mutable_deadline();
  deadline->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(24 * 10)));
  deadline->set_nanos(-5);
  grpc::Status s = stub_->DispatchTicket(ContextWithToken("reviewer").get(), dispatch, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("lead.time_limit.deadline: nanos"), std::string::npos)
      << s.error_message();
  deadline->set_nanos(0);
  deadline->set_seconds(int64_t{1} << 40);  // Beyond the year 9999.
  s = stub_->DispatchTicket(ContextWithToken("reviewer").get(), dispatch, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("lead.time_limit.deadline: seconds"), std::string::npos)
      << s.error_message();
  EXPECT_EQ(Get(t.id()).version(), t.version());

  dispatch.mutable_lead()->clear_time_limit();
  ASSERT_TRUE(stub_->DispatchTicket(ContextWithToken("reviewer").get(), dispatch, &t).ok());
  auto ext = WorkOrderRequest<v1::RequestExtensionRequest>(t, "water");
  ext.set_reason("需协调多个部门现场勘查");
  ext.mutable_extension()->mutable_deadline()->set_seconds(
      absl::ToUnixSeconds(clock_.Now() + absl::Hours(24 * 40)));
  ext.mutable_extension()->mutable_deadline()->set_nanos(-1);
  s = stub_->RequestExtension(ContextWithToken("water").get(), ext, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("extension.deadline: nanos"), std::string::npos)
      << s.error_message();
  EXPECT_EQ(Get(t.id()).version(), t.version());

  // Filters: an enum number the contract does not define, UNSPECIFIED in a list.
  v1::ListTicketsRequest list;
  list.add_states(static_cast<v1::TicketState>(999));
  v1::ListTicketsResponse listed;
  s = stub_->ListTickets(ContextWithToken("supervisor").get(), list, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("states[0]"), std::string::npos) << s.error_message();
  list.clear_states();
  list.mutable_create_time_after()->set_seconds(-(int64_t{1} << 50));
  s = stub_->ListTickets(ContextWithToken("supervisor").get(), list, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("create_time_after"), std::string::npos) << s.error_message();
  // The caller's identity is still checked first.
  EXPECT_EQ(stub_->ListTickets(ContextWithToken("").get(), list, &listed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// Found by fuzzing: a sequence of INT64_MAX in the events' page token overflowed the next key;
// it and negative ones are refused.
TEST_F(TicketServiceTest, AnEventsPageTokenOutOfRangeIsRefused) {
  v1::Ticket t = Create();
  // Tokens carry a checksum; these are forged the way the service makes them, by someone who
  // read its code.
  v1::ListEventsRequest unpaged;
  unpaged.set_ticket_id(t.id());
  const std::string fingerprint = RequestFingerprint(unpaged);
  for (const char* after : {"9223372036854775807", "-1", "x"}) {
    v1::ListEventsRequest r;
    r.set_ticket_id(t.id());
    r.set_page_token(MakePageToken({after}, fingerprint, clock_.Now()));
    v1::ListEventsResponse out;
    grpc::Status s = stub_->ListEvents(ContextWithToken("agent").get(), r, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << after;
    EXPECT_NE(s.error_message().find("page_token"), std::string::npos) << s.error_message();
  }
  v1::ListEventsRequest r;
  r.set_ticket_id(t.id());
  r.set_page_token(MakePageToken({"0"}, fingerprint, clock_.Now()));
  v1::ListEventsResponse out;
  ASSERT_TRUE(stub_->ListEvents(ContextWithToken("agent").get(), r, &out).ok());
  EXPECT_EQ(out.events_size(), 1);
  // The token of one ticket's history is refused for another's.
  v1::Ticket other = Create();
  r.set_ticket_id(other.id());
  EXPECT_EQ(stub_->ListEvents(ContextWithToken("agent").get(), r, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(TicketServiceTest, RequestIdsMakeRetriesSafe) {
  v1::CreateTicketRequest create;
  create.set_request_id("same-request");
  create.mutable_ticket()->set_kind(v1::TICKET_KIND_CONSULTATION);
  create.mutable_ticket()->set_channel(v1::CHANNEL_WEB);
  create.mutable_ticket()->set_content("公积金提取需要什么材料？");
  v1::Ticket first, again;
  ASSERT_TRUE(stub_->CreateTicket(ContextWithToken("agent").get(), create, &first).ok());
  ASSERT_TRUE(stub_->CreateTicket(ContextWithToken("agent").get(), create, &again).ok());
  EXPECT_EQ(first.id(), again.id());
  create.mutable_ticket()->set_content("另一件事");
  EXPECT_EQ(stub_->CreateTicket(ContextWithToken("agent").get(), create, &again).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::ConfirmTicketRequest confirm;
  confirm.set_ticket_id(first.id());
  confirm.set_expected_version(1);
  confirm.set_request_id("confirm-1");
  v1::Ticket confirmed, retried;
  ASSERT_TRUE(stub_->ConfirmTicket(ContextWithToken("reviewer").get(), confirm, &confirmed).ok());
  // The retry of an applied update succeeds without applying it again, despite the old version.
  ASSERT_TRUE(stub_->ConfirmTicket(ContextWithToken("reviewer").get(), confirm, &retried).ok());
  EXPECT_EQ(retried.version(), confirmed.version());
  EXPECT_EQ(Get(first.id()).events_size(), 2);
  // The same id with another body is another request: an error, not the first answer again.
  confirm.set_category_path("住房保障/住房公积金");
  grpc::Status s = stub_->ConfirmTicket(ContextWithToken("reviewer").get(), confirm, &retried);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(Get(first.id()).events_size(), 2);
}

// Approve an extension, then refuse it under the same request id: refused, not replayed.
TEST_F(TicketServiceTest, ARequestIdReusedForAnotherDecisionIsRefused) {
  v1::Ticket t = Confirm(Create());
  ASSERT_TRUE(Dispatch(t, "water", {}, &t).ok());
  t = Sign(t, "water");
  auto ext = WorkOrderRequest<v1::RequestExtensionRequest>(t, "water");
  ext.mutable_extension()->set_working_days(3);
  ext.set_reason("需协调管网施工");
  ASSERT_TRUE(stub_->RequestExtension(ContextWithToken("water").get(), ext, &t).ok());
  v1::DecideExtensionRequest decide;
  decide.set_ticket_id(t.id());
  decide.set_work_order_id(Order(t, "water").id());
  decide.set_expected_version(t.version());
  decide.set_request_id("decision-1");
  decide.set_decision(v1::EXTENSION_DECISION_APPROVE);
  v1::Ticket approved, out;
  ASSERT_TRUE(stub_->DecideExtension(ContextWithToken("supervisor").get(), decide, &approved).ok());
  decide.set_decision(v1::EXTENSION_DECISION_REFUSE);
  decide.set_reason("期限内可以完成");
  grpc::Status s = stub_->DecideExtension(ContextWithToken("supervisor").get(), decide, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(Order(Get(t.id()), "water").extension().state(), v1::EXTENSION_STATE_APPROVED);
}

// The contract's order of errors: a malformed request or an unknown work order is reported
// before a stale version.
TEST_F(TicketServiceTest, FieldErrorsAndUnknownWorkOrdersComeBeforeAStaleVersion) {
  v1::Ticket t = Confirm(Create());
  v1::RejectTicketRequest reject;
  reject.set_ticket_id(t.id());
  reject.set_expected_version(t.version() + 5);  // Stale.
  v1::Ticket out;
  grpc::Status s = stub_->RejectTicket(ContextWithToken("reviewer").get(), reject, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(s.error_message(), "reason: must not be empty");
  ASSERT_TRUE(Dispatch(t, "water", {}, &t).ok());
  v1::SignWorkOrderRequest sign;
  sign.set_ticket_id(t.id());
  sign.set_work_order_id("W-no-such");
  sign.set_expected_version(t.version() + 5);
  s = stub_->SignWorkOrder(ContextWithToken("reviewer").get(), sign, &out);
  // Reviewers do not sign: the role is checked first of all.
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::RedispatchWorkOrderRequest re;
  re.set_ticket_id(t.id());
  re.set_work_order_id("W-no-such");
  re.set_expected_version(t.version() + 5);
  re.mutable_assignment()->set_department_id("hrss");
  s = stub_->RedispatchWorkOrder(ContextWithToken("reviewer").get(), re, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  // A well-formed request on a stale version is ABORTED.
  reject.set_reason("不属于政府职能范围");
  EXPECT_EQ(stub_->RejectTicket(ContextWithToken("reviewer").get(), reject, &out).error_code(),
            grpc::StatusCode::ABORTED);
}

TEST_F(TicketServiceTest, YellowThenRedWarningsOnTheWorkingCalendar) {
  v1::Ticket t = Confirm(Create());
  ASSERT_TRUE(Dispatch(t, "water", {}, &t).ok());  // Deadline: end of 22 October 2024.
  EXPECT_EQ(*service_->RunDueWarnings(), 0);
  // The yellow card comes one working day before: at the end of Monday 21 October.
  clock_.Set(Shanghai(2024, 10, 21, 23, 59));
  EXPECT_EQ(*service_->RunDueWarnings(), 0);
  clock_.Set(Shanghai(2024, 10, 22, 0, 1));
  EXPECT_EQ(*service_->RunDueWarnings(), 1);
  t = Get(t.id());
  EXPECT_EQ(t.warning_level(), v1::WARNING_LEVEL_YELLOW);
  EXPECT_EQ(*service_->RunDueWarnings(), 0);  // Raised once.
  clock_.Set(Shanghai(2024, 10, 23, 8));
  EXPECT_EQ(*service_->RunDueWarnings(), 1);
  t = Get(t.id());
  EXPECT_EQ(t.warning_level(), v1::WARNING_LEVEL_RED);
  EXPECT_EQ(t.events(t.events_size() - 1).type(), v1::EVENT_TYPE_RED_WARNING);
  EXPECT_EQ(t.events(t.events_size() - 1).actor().role(), v1::ROLE_SYSTEM);
  // A late reply is frozen as not on time.
  t = Sign(t, "water");
  t = Reply(t, "water");
  EXPECT_FALSE(Order(t, "water").on_time());
  EXPECT_EQ(t.warning_level(), v1::WARNING_LEVEL_NONE);
}

TEST_F(TicketServiceTest, ANewCalendarDoesNotMoveDeadlinesAlreadySet) {
  v1::Ticket t = Confirm(Create());
  ASSERT_TRUE(Dispatch(t, "water", {}, &t).ok());
  absl::Time set = FromProtoTime(t.deadline());
  // A re-issued calendar that makes Monday 30 September 2024 a holiday.
  service_->SetCalendar(
      WorkingCalendar::FromDays({{absl::CivilDay(2024, 9, 30), true, "extra"}}, "test-v2"));
  EXPECT_EQ(FromProtoTime(Get(t.id()).deadline()), set);
  v1::Ticket other = Confirm(Create());
  ASSERT_TRUE(Dispatch(other, "water", {}, &other).ok());
  EXPECT_EQ(Order(other, "water").calendar_version(), "test-v2");
  EXPECT_NE(Order(t, "water").calendar_version(), "test-v2");
}

TEST_F(TicketServiceTest, ListTicketsFiltersAndPages) {
  std::vector<std::string> water, housing, pending;
  for (int i = 0; i < 5; ++i) {
    v1::Ticket t = Create();
    clock_.Advance(absl::Minutes(1));
    if (i == 4) {
      pending.push_back(t.id());
      continue;
    }
    t = Confirm(t);
    ASSERT_TRUE(Dispatch(t, i % 2 ? "water" : "housing", {}, &t).ok());
    (i % 2 ? water : housing).push_back(t.id());
  }
  auto list = [&](v1::ListTicketsRequest r, const std::string& token = "supervisor") {
    std::vector<std::string> ids;
    while (true) {
      v1::ListTicketsResponse page;
      grpc::Status s = stub_->ListTickets(ContextWithToken(token).get(), r, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      for (const v1::Ticket& t : page.tickets()) ids.push_back(t.id());
      if (!s.ok() || page.next_page_token().empty()) return ids;
      r.set_page_token(page.next_page_token());
    }
  };
  v1::ListTicketsRequest all;
  all.set_page_size(2);
  all.set_order_by("create_time");
  std::vector<std::string> everything = list(all);
  ASSERT_EQ(everything.size(), 5u);
  EXPECT_TRUE(std::is_sorted(everything.begin(), everything.end()));  // Ids follow creation.

  v1::ListTicketsRequest by_department;
  by_department.set_department_id("water");
  EXPECT_EQ(list(by_department).size(), water.size());
  v1::ListTicketsRequest by_state;
  by_state.add_states(v1::TICKET_STATE_PENDING_REVIEW);
  EXPECT_EQ(list(by_state), pending);
  v1::ListTicketsRequest by_category;
  by_category.set_category_prefix("城乡建设");
  EXPECT_EQ(list(by_category).size(), 5u);
  by_category.set_category_prefix("城乡");
  EXPECT_TRUE(list(by_category).empty());  // Whole segments only.

  v1::ListTicketsRequest overdue;
  overdue.set_overdue_only(true);
  EXPECT_TRUE(list(overdue).empty());
  clock_.Set(Shanghai(2024, 11, 1, 9));
  EXPECT_EQ(list(overdue).size(), water.size() + housing.size());

  // A department lists only its own, whatever it asks.
  EXPECT_EQ(list(v1::ListTicketsRequest(), "housing").size(), housing.size());

  v1::ListTicketsRequest forged = all;
  forged.set_page_token("not-a-token");
  v1::ListTicketsResponse page;
  grpc::Status s = stub_->ListTickets(ContextWithToken("supervisor").get(), forged, &page);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("page_token"), std::string::npos);
  v1::ListTicketsRequest bad_order;
  bad_order.set_order_by("priority");
  s = stub_->ListTickets(ContextWithToken("supervisor").get(), bad_order, &page);
  EXPECT_NE(s.error_message().find("order_by"), std::string::npos);
}

// Once RemoveCommitListener returns, its listener is not running and is not called again, so
// its owner may go away (the committer called listeners it had copied before the removal).
TEST_F(TicketServiceTest, ARemovedCommitListenerIsNotRunningAndNotCalledAgain) {
  absl::Notification entered, release;
  std::atomic<bool> inside{false};
  std::atomic<int> calls{0};
  const int id = service_->store().AddCommitListener([&](int64_t) {
    ++calls;
    inside = true;
    if (!entered.HasBeenNotified()) entered.Notify();
    release.WaitForNotification();  // The first call holds the committer until released.
    inside = false;
  });
  std::thread writer([&] { Create(); });
  entered.WaitForNotification();
  std::atomic<bool> removed{false}, inside_at_return{false};
  std::thread remover([&] {
    service_->store().RemoveCommitListener(id);
    inside_at_return = inside.load();
    removed = true;
  });
  // The removal must wait for the call in progress: give an early return every chance.
  const bool returned_early =
      hotline::testing::WaitFor([&] { return removed.load(); }, absl::Milliseconds(500));
  release.Notify();
  remover.join();
  writer.join();
  EXPECT_FALSE(returned_early) << "RemoveCommitListener returned while its listener ran";
  EXPECT_FALSE(inside_at_return.load());
  const int before = calls.load();
  Create();
  EXPECT_EQ(calls.load(), before);
}

TEST_F(TicketServiceTest, DepartmentStreamResumesFromItsCursorWithoutGaps) {
  // Work for two departments, interleaved.
  std::vector<v1::Ticket> tickets;
  for (int i = 0; i < 3; ++i) {
    v1::Ticket t = Confirm(Create());
    ASSERT_TRUE(Dispatch(t, i % 2 ? "water" : "hrss", {}, &t).ok());
    tickets.push_back(t);
  }
  auto read = [&](const std::string& cursor, size_t events_wanted,
                  std::vector<v1::WatchWorkOrdersResponse>* out) {
    v1::WatchWorkOrdersRequest request;
    request.set_cursor(cursor);
    auto context = ContextWithToken("hrss");
    auto stream = stub_->WatchWorkOrders(context.get(), request);
    v1::WatchWorkOrdersResponse m;
    size_t events = 0;
    while (events < events_wanted && stream->Read(&m)) {
      out->push_back(m);
      events += m.has_event();
    }
    context->TryCancel();
    stream->Finish().IgnoreError();
  };
  std::vector<v1::WatchWorkOrdersResponse> first;
  read("", 1, &first);
  ASSERT_GE(first.size(), 2u);
  EXPECT_FALSE(first[0].has_event());  // Opens with a heartbeat.

  // More happens while the department is away.
  v1::Ticket hrss_ticket = tickets[0];
  hrss_ticket = Sign(hrss_ticket, "hrss");
  hrss_ticket = Reply(hrss_ticket, "hrss");

  std::vector<v1::WatchWorkOrdersResponse> second;
  read(first.back().cursor(), 3, &second);
  std::vector<int64_t> delivered;
  for (const auto& m : first)
    if (m.has_event()) delivered.push_back(m.event().global_sequence());
  for (const auto& m : second)
    if (m.has_event()) delivered.push_back(m.event().global_sequence());
  // Expected: every event addressed to hrss, in order, each once.
  std::vector<int64_t> expected;
  ASSERT_TRUE(service_->store()
                  .ScanAllEvents(0,
                                 [&](const v1::TicketEvent& e) {
                                   if (std::find(e.department_ids().begin(),
                                                 e.department_ids().end(),
                                                 "hrss") != e.department_ids().end()) {
                                     expected.push_back(e.global_sequence());
                                   }
                                   return true;
                                 })
                  .ok());
  ASSERT_EQ(expected.size(), 4u);  // Two dispatches, a signature, a reply.
  EXPECT_EQ(delivered, expected);

  // Another department's token cannot open hrss's stream, nor use its cursor.
  v1::WatchWorkOrdersRequest foreign;
  foreign.set_department_id("hrss");
  auto context = ContextWithToken("water");
  auto stream = stub_->WatchWorkOrders(context.get(), foreign);
  v1::WatchWorkOrdersResponse m;
  EXPECT_FALSE(stream->Read(&m));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  foreign.set_department_id("");
  foreign.set_cursor(first.back().cursor());
  auto context2 = ContextWithToken("water");
  auto stream2 = stub_->WatchWorkOrders(context2.get(), foreign);
  EXPECT_FALSE(stream2->Read(&m));
  EXPECT_EQ(stream2->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(TicketServiceTest, RelayPublishesEveryEventOnceInOrderAcrossARedisOutage) {
  testing::RedisServer redis(dir_.Sub("redis-data"));
  std::filesystem::create_directories(dir_.Sub("redis-data"));
  ASSERT_TRUE(redis.Start().ok());
  RedisOptions options = *ParseRedisAddress(redis.address());
  options.connect_timeout = absl::Milliseconds(200);
  RedisClient client(options);
  OutboxRelay relay(&service_->store(), &client, "hotline:ticket:events");

  v1::Ticket t = Confirm(Create());
  ASSERT_EQ(*relay.PublishPending(), 2);
  redis.Kill();
  // Tickets keep working while Redis is down; their events wait in the outbox.
  ASSERT_TRUE(Dispatch(t, "water", {"housing"}, &t).ok());
  EXPECT_EQ(relay.PublishPending().status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(redis.Start().ok());
  absl::StatusOr<int> published;
  ASSERT_TRUE(testing::WaitFor([&] {
    published = relay.PublishPending();
    return published.ok();
  }));
  EXPECT_EQ(*published, 2);
  EXPECT_EQ(*relay.PublishPending(), 0);

  auto range = client.Command({"XRANGE", "hotline:ticket:events", "-", "+"});
  ASSERT_TRUE(range.ok());
  ASSERT_EQ((*range)->elements, 4u);
  for (size_t i = 0; i < 4; ++i) {
    redisReply* entry = (*range)->element[i];
    EXPECT_EQ(std::string(entry->element[0]->str), absl::StrCat(i + 1, "-0"));
    v1::TicketEvent e;
    redisReply* fields = entry->element[1];
    ASSERT_TRUE(
        e.ParseFromArray(fields->element[1]->str, static_cast<int>(fields->element[1]->len)));
    EXPECT_EQ(e.global_sequence(), static_cast<int64_t>(i + 1));
  }
}

}  // namespace
}  // namespace hotline::ticket
