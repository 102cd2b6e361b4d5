// The intake and dispatch side of the ticket service: answering a caller on the spot
// (CreateTicket.direct_answer) with its idempotency, error contract and replay; the settings
// the consoles read; similar tickets and department suggestions learnt from closed tickets.
#include <gtest/gtest.h>

#include "services/ticket/replay.h"
#include "services/ticket/ticket_service_fixture.h"

namespace hotline::ticket {
namespace {

class IntakeTest : public TicketServiceTest {
 protected:
  v1::CreateTicketRequest AnswerRequest(const std::string& request_id,
                                        const std::string& answer =
                                            "租房提取公积金需提供租赁合同和"
                                            "完税证明，可在线办理。") {
    v1::CreateTicketRequest request;
    request.set_request_id(request_id);
    v1::Ticket* t = request.mutable_ticket();
    t->set_kind(v1::TICKET_KIND_CONSULTATION);
    t->set_channel(v1::CHANNEL_HOTLINE);
    t->set_caller_name("李先生");
    t->set_caller_phone("13900001111");
    t->set_content("想咨询租房提取住房公积金需要什么材料。");
    t->set_category_path("住房保障/住房公积金");
    v1::DirectAnswer* a = request.mutable_direct_answer();
    a->set_answer_text(answer);
    v1::KnowledgeCitation* c = a->add_citations();
    c->set_entry_id("kb-housing-fund-rent");
    c->set_entry_version(3);
    c->set_passage_ordinal(2);
    c->set_passage_label("第十二条");
    c->set_title("长沙住房公积金提取管理办法");
    c->set_doc_number("长公积金发〔2023〕5号");
    return request;
  }

  // A ticket in `district` with `content`, taken through the whole loop by `department`
  // (confirmed, dispatched, signed, replied, satisfied callback): closed history to learn from.
  v1::Ticket ClosedBy(const std::string& department, const std::string& content,
                      const std::string& returned_first_by = "") {
    v1::CreateTicketRequest request;
    request.set_request_id(absl::StrCat("closed-", ++request_counter_));
    v1::Ticket* in = request.mutable_ticket();
    in->set_kind(v1::TICKET_KIND_COMPLAINT);
    in->set_channel(v1::CHANNEL_HOTLINE);
    in->set_content(content);
    in->mutable_location()->set_district_code("430104");
    v1::Ticket t;
    EXPECT_TRUE(stub_->CreateTicket(ContextWithToken("agent").get(), request, &t).ok());
    t = Confirm(t);
    if (!returned_first_by.empty()) {
      EXPECT_TRUE(Dispatch(t, returned_first_by, {}, &t).ok());
      auto ret = WorkOrderRequest<v1::ReturnWorkOrderRequest>(t, returned_first_by);
      ret.set_reason("不属于本单位职责");
      EXPECT_TRUE(stub_->ReturnWorkOrder(ContextWithToken(returned_first_by).get(), ret, &t).ok());
      v1::RedispatchWorkOrderRequest re;
      re.set_ticket_id(t.id());
      re.set_work_order_id(Order(t, returned_first_by).id());
      re.set_expected_version(t.version());
      re.mutable_assignment()->set_department_id(department);
      EXPECT_TRUE(stub_->RedispatchWorkOrder(ContextWithToken("reviewer").get(), re, &t).ok());
    } else {
      EXPECT_TRUE(Dispatch(t, department, {}, &t).ok());
    }
    t = Reply(Sign(t, department), department);
    t = Callback(t, v1::CALLBACK_RESULT_SATISFIED);
    EXPECT_EQ(t.state(), v1::TICKET_STATE_CLOSED);
    return t;
  }

  v1::SuggestDepartmentsResponse Suggest(const std::string& content,
                                         const std::string& category = "") {
    v1::SuggestDepartmentsRequest r;
    r.set_content(content);
    r.set_category_path(category);
    v1::SuggestDepartmentsResponse out;
    grpc::Status s = stub_->SuggestDepartments(ContextWithToken("reviewer").get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
};

TEST_F(IntakeTest, AnAnswerOnTheSpotIsCreatedClosedWithItsCitations) {
  v1::Ticket t;
  grpc::Status s =
      stub_->CreateTicket(ContextWithToken("agent").get(), AnswerRequest("answer-1"), &t);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(t.state(), v1::TICKET_STATE_CLOSED);
  EXPECT_EQ(t.version(), 1);
  EXPECT_EQ(FromProtoTime(t.close_time()), clock_.Now());
  EXPECT_EQ(t.work_orders_size(), 0);
  ASSERT_EQ(t.direct_answer().citations_size(), 1);
  EXPECT_EQ(t.direct_answer().citations(0).entry_id(), "kb-housing-fund-rent");
  EXPECT_EQ(t.direct_answer().citations(0).passage_ordinal(), 2);
  EXPECT_EQ(t.direct_answer().answered_by().principal(), "agent-zhang");
  EXPECT_EQ(FromProtoTime(t.direct_answer().answer_time()), clock_.Now());

  // Its history: created, then answered, in one commit (one version); replay agrees.
  v1::Ticket full = Get(t.id());
  ASSERT_EQ(full.events_size(), 2);
  EXPECT_EQ(full.events(0).type(), v1::EVENT_TYPE_TICKET_CREATED);
  EXPECT_EQ(full.events(1).type(), v1::EVENT_TYPE_TICKET_ANSWERED_DIRECTLY);
  EXPECT_EQ(full.events(1).ticket_version(), 1);
  EXPECT_EQ(full.events(1).answered_directly().citations(0).doc_number(), "长公积金发〔2023〕5号");
  std::vector<v1::TicketEvent> events(full.events().begin(), full.events().end());
  absl::StatusOr<ReplayedTicket> replayed = Replay(events);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(replayed->state, v1::TICKET_STATE_CLOSED);
  EXPECT_EQ(replayed->version, 1);

  // It survives a restart as it was.
  Stop();
  Start();
  v1::Ticket again = Get(t.id());
  EXPECT_EQ(again.state(), v1::TICKET_STATE_CLOSED);
  EXPECT_EQ(again.direct_answer().answer_text(), t.direct_answer().answer_text());
}

TEST_F(IntakeTest, AnswersAreIdempotentByRequestIdIncludingTheAnswer) {
  v1::Ticket first, retry, other;
  ASSERT_TRUE(
      stub_->CreateTicket(ContextWithToken("agent").get(), AnswerRequest("answer-2"), &first).ok());
  ASSERT_TRUE(
      stub_->CreateTicket(ContextWithToken("agent").get(), AnswerRequest("answer-2"), &retry).ok());
  EXPECT_EQ(retry.id(), first.id());
  EXPECT_EQ(retry.version(), 1);
  // The same request id with another answer is a different request.
  grpc::Status s = stub_->CreateTicket(ContextWithToken("agent").get(),
                                       AnswerRequest("answer-2", "另一种答复"), &other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  // And without an answer at all.
  v1::CreateTicketRequest plain = AnswerRequest("answer-2");
  plain.clear_direct_answer();
  EXPECT_EQ(stub_->CreateTicket(ContextWithToken("agent").get(), plain, &other).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Get(first.id()).events_size(), 2);
}

TEST_F(IntakeTest, AnswersFollowTheErrorContract) {
  v1::Ticket out;
  v1::CreateTicketRequest r = AnswerRequest("answer-3");
  EXPECT_EQ(stub_->CreateTicket(ContextWithToken("").get(), r, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub_->CreateTicket(ContextWithToken("water").get(), r, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub_->CreateTicket(ContextWithToken("editor").get(), r, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto invalid = [&](const v1::CreateTicketRequest& bad, const std::string& field) {
    grpc::Status s = stub_->CreateTicket(ContextWithToken("agent").get(), bad, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_EQ(s.error_message().rfind(field, 0), 0u) << s.error_message();
  };
  v1::CreateTicketRequest complaint = r;
  complaint.mutable_ticket()->set_kind(v1::TICKET_KIND_COMPLAINT);
  invalid(complaint, "direct_answer: a TICKET_KIND_COMPLAINT must be dispatched");
  v1::CreateTicketRequest empty = r;
  empty.mutable_direct_answer()->set_answer_text("  ");
  invalid(empty, "direct_answer.answer_text: must not be empty");
  v1::CreateTicketRequest long_answer = r;
  long_answer.mutable_direct_answer()->set_answer_text(std::string(4001, 'a'));
  invalid(long_answer, "direct_answer.answer_text: longer than 4000");
  v1::CreateTicketRequest many = r;
  for (int i = 0; i < 5; ++i)
    *many.mutable_direct_answer()->add_citations() = r.direct_answer().citations(0);
  invalid(many, "direct_answer.citations: at most 5");
  v1::CreateTicketRequest no_entry = r;
  no_entry.mutable_direct_answer()->mutable_citations(0)->clear_entry_id();
  invalid(no_entry, "direct_answer.citations[0].entry_id");
  v1::CreateTicketRequest duplicate = r;
  duplicate.mutable_ticket()->set_suspected_duplicate_of("T20240926-000001");
  invalid(duplicate, "ticket.suspected_duplicate_of");
  v1::CreateTicketRequest district = r;
  district.mutable_ticket()->mutable_location()->set_district_code("999999");
  invalid(district, "ticket.location.district_code");
  // Nothing of these was stored.
  v1::ListTicketsRequest list;
  v1::ListTicketsResponse listed;
  ASSERT_TRUE(stub_->ListTickets(ContextWithToken("supervisor").get(), list, &listed).ok());
  EXPECT_EQ(listed.tickets_size(), 0);
}

TEST_F(IntakeTest, AnAnswerOnTheSpotIsReopenedOnlyToANamedDepartment) {
  v1::Ticket t;
  ASSERT_TRUE(
      stub_->CreateTicket(ContextWithToken("agent").get(), AnswerRequest("answer-4"), &t).ok());
  v1::ReopenTicketRequest reopen;
  reopen.set_ticket_id(t.id());
  reopen.set_expected_version(t.version());
  reopen.set_reason("市民来电称按答复办理被拒");
  v1::Ticket out;
  grpc::Status s = stub_->ReopenTicket(ContextWithToken("supervisor").get(), reopen, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("name the lead department"), std::string::npos);
  reopen.mutable_lead()->set_department_id("housing-fund");
  ASSERT_TRUE(stub_->ReopenTicket(ContextWithToken("supervisor").get(), reopen, &out).ok());
  EXPECT_EQ(out.state(), v1::TICKET_STATE_IN_PROGRESS);
  EXPECT_EQ(Order(out, "housing-fund").role(), v1::WORK_ORDER_ROLE_LEAD);
  v1::Ticket full = Get(t.id());
  std::vector<v1::TicketEvent> events(full.events().begin(), full.events().end());
  EXPECT_EQ(Replay(events)->state, v1::TICKET_STATE_IN_PROGRESS);
}

TEST_F(IntakeTest, SettingsNameTheDirectoryDistrictsRoutesWindowsAndTheCaller) {
  v1::IntakeSettings settings;
  ASSERT_TRUE(stub_
                  ->GetIntakeSettings(ContextWithToken("reviewer").get(),
                                      v1::GetIntakeSettingsRequest(), &settings)
                  .ok());
  EXPECT_EQ(settings.departments_size(), config_.departments_size());
  EXPECT_EQ(settings.districts_size(), config_.districts_size());
  EXPECT_GT(settings.districts_size(), 0);
  EXPECT_EQ(settings.category_routes_size(), config_.category_routes_size());
  EXPECT_EQ(settings.repeat_call_window_days(), config_.repeat_call_window_days());
  EXPECT_GT(settings.repeat_call_window_days(), 0);
  ASSERT_EQ(settings.direct_answer_kinds_size(), 2);
  EXPECT_EQ(settings.caller().role(), v1::ROLE_REVIEWER);
  EXPECT_EQ(settings.caller().principal(), "reviewer-liu");
  ASSERT_TRUE(stub_
                  ->GetIntakeSettings(ContextWithToken("water").get(),
                                      v1::GetIntakeSettingsRequest(), &settings)
                  .ok());
  EXPECT_EQ(settings.caller().role(), v1::ROLE_DEPARTMENT);
  EXPECT_EQ(settings.caller().department_id(), "water");
  EXPECT_EQ(
      stub_
          ->GetIntakeSettings(ContextWithToken("").get(), v1::GetIntakeSettingsRequest(), &settings)
          .error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(IntakeTest, SimilarTicketsAreFoundByContentAndFilteredByDistrictAgeAndState) {
  auto create = [&](const std::string& content, const std::string& district) {
    v1::CreateTicketRequest r;
    r.set_request_id(absl::StrCat("sim-", ++request_counter_));
    r.mutable_ticket()->set_kind(v1::TICKET_KIND_COMPLAINT);
    r.mutable_ticket()->set_channel(v1::CHANNEL_HOTLINE);
    r.mutable_ticket()->set_content(content);
    r.mutable_ticket()->mutable_location()->set_district_code(district);
    v1::Ticket t;
    EXPECT_TRUE(stub_->CreateTicket(ContextWithToken("agent").get(), r, &t).ok());
    return t;
  };
  v1::Ticket first =
      create("望月湖小区三栋自昨天起停水，一直没有恢复供水，也没有停水通知。", "430104");
  create("开福区伍家岭路段夜间施工噪音很大，影响居民休息。", "430105");
  v1::Ticket elsewhere = create("东塘小区停水两天了，至今没有恢复供水。", "430111");

  v1::FindSimilarTicketsRequest r;
  r.set_content("望月湖小区停水了，到现在还没有恢复供水");
  v1::FindSimilarTicketsResponse found;
  ASSERT_TRUE(stub_->FindSimilarTickets(ContextWithToken("agent").get(), r, &found).ok());
  ASSERT_GE(found.tickets_size(), 1);
  EXPECT_EQ(found.tickets(0).ticket().id(), first.id());
  EXPECT_GT(found.tickets(0).similarity(), 0.3);
  for (const v1::SimilarTicket& s : found.tickets()) {
    EXPECT_EQ(s.ticket().content().find("噪音"), std::string::npos) << "unrelated matter found";
  }
  // Only the district asked for.
  r.set_district_code("430111");
  ASSERT_TRUE(stub_->FindSimilarTickets(ContextWithToken("agent").get(), r, &found).ok());
  ASSERT_EQ(found.tickets_size(), 1);
  EXPECT_EQ(found.tickets(0).ticket().id(), elsewhere.id());
  // Out of the window once the days have passed.
  clock_.Advance(absl::Hours(24 * (config_.duplicate_window_days() + 1)));
  ASSERT_TRUE(stub_->FindSimilarTickets(ContextWithToken("agent").get(), r, &found).ok());
  EXPECT_EQ(found.tickets_size(), 0);
  r.set_within_days(30);
  ASSERT_TRUE(stub_->FindSimilarTickets(ContextWithToken("agent").get(), r, &found).ok());
  EXPECT_EQ(found.tickets_size(), 1);
  // Open only: a rejected ticket drops out.
  v1::RejectTicketRequest reject;
  reject.set_ticket_id(elsewhere.id());
  reject.set_expected_version(elsewhere.version());
  reject.set_reason("重复反映，已并入其他工单办理");
  v1::Ticket rejected;
  ASSERT_TRUE(stub_->RejectTicket(ContextWithToken("reviewer").get(), reject, &rejected).ok());
  r.set_open_only(true);
  ASSERT_TRUE(stub_->FindSimilarTickets(ContextWithToken("agent").get(), r, &found).ok());
  EXPECT_EQ(found.tickets_size(), 0);

  // The index is rebuilt from the store after a restart.
  Stop();
  Start();
  r.clear_district_code();
  r.set_open_only(false);
  ASSERT_TRUE(stub_->FindSimilarTickets(ContextWithToken("agent").get(), r, &found).ok());
  EXPECT_EQ(found.tickets_size(), 2);

  // Errors and roles.
  v1::FindSimilarTicketsRequest bad;
  grpc::Status s = stub_->FindSimilarTickets(ContextWithToken("agent").get(), bad, &found);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "content: must not be empty");
  bad.set_content("停水");
  bad.set_within_days(400);
  EXPECT_EQ(stub_->FindSimilarTickets(ContextWithToken("agent").get(), bad, &found).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(stub_->FindSimilarTickets(ContextWithToken("water").get(), r, &found).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(IntakeTest, DepartmentsAreSuggestedFromRoutesAndFromWhoHandledSimilarTickets) {
  // No history yet: the configured route of the category decides.
  v1::SuggestDepartmentsResponse route = Suggest("小区停水三天了", "城乡建设/供水/水压");
  ASSERT_GE(route.suggestions_size(), 1);
  EXPECT_EQ(route.suggestions(0).department_id(), "water");
  EXPECT_EQ(route.suggestions(0).department_name(), "市水务局");
  ASSERT_GE(route.suggestions(0).reasons_size(), 1);
  EXPECT_EQ(route.suggestions(0).reasons(0).source(), v1::SuggestionReason::SOURCE_CATEGORY_ROUTE);
  // Without category and history, the configured remits (职责清单) still name it.
  v1::SuggestDepartmentsResponse remit = Suggest("小区停水三天了，一直没有恢复供水");
  ASSERT_GE(remit.suggestions_size(), 1);
  EXPECT_EQ(remit.suggestions(0).department_id(), "water");
  ASSERT_EQ(remit.suggestions(0).reasons_size(), 1);
  EXPECT_EQ(remit.suggestions(0).reasons(0).source(), v1::SuggestionReason::SOURCE_REMIT);
  EXPECT_EQ(remit.suggestions(0).reasons(0).text(), "诉求与 市水务局 职责清单相符");

  // History: unpaid wages on building sites go to hrss, after housing returned one of them as
  // misrouted.
  ClosedBy("hrss", "岳麓区某工地包工头拖欠我们十几个农民工三个月工资，一直推脱不发。",
           /*returned_first_by=*/"housing");
  ClosedBy("hrss", "工地老板拖欠农民工工资两个多月，找项目部也没人管。");
  ClosedBy("hrss", "装修公司拖欠工人工资，老板电话打不通，工资一直不发。");
  v1::SuggestDepartmentsResponse learnt = Suggest("我们在工地干活，包工头拖欠工资快半年了不发。");
  ASSERT_GE(learnt.suggestions_size(), 1);
  const v1::DepartmentSuggestion& top = learnt.suggestions(0);
  EXPECT_EQ(top.department_id(), "hrss");
  const v1::SuggestionReason* history = nullptr;
  for (const v1::SuggestionReason& r : top.reasons()) {
    if (r.source() == v1::SuggestionReason::SOURCE_SIMILAR_TICKETS) history = &r;
  }
  ASSERT_NE(history, nullptr);
  // The closest ones vote (the decoration company's is further off).
  const int handled = history->similar_handled();
  EXPECT_GE(handled, 2);
  EXPECT_LE(handled, 3);
  EXPECT_EQ(history->text(),
            absl::StrCat("类似工单 ", handled, " 件由 市人力资源和社会保障局 办结"));
  // The department that returned one as misrouted is not recommended for it.
  for (const v1::DepartmentSuggestion& s : learnt.suggestions()) {
    if (s.department_id() == "housing") ADD_FAILURE() << "housing suggested: " << s.score();
  }

  // A ticket id works in place of content, and unknown ones are NOT_FOUND.
  v1::SuggestDepartmentsRequest by_id;
  by_id.set_ticket_id("T20240926-999999");
  v1::SuggestDepartmentsResponse out;
  EXPECT_EQ(stub_->SuggestDepartments(ContextWithToken("reviewer").get(), by_id, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::SuggestDepartmentsRequest empty;
  EXPECT_EQ(stub_->SuggestDepartments(ContextWithToken("reviewer").get(), empty, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(stub_->SuggestDepartments(ContextWithToken("water").get(), by_id, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(IntakeTest, ASuspectedDuplicateMustExistAndIsHiddenFromDepartments) {
  v1::Ticket earlier = Create();
  v1::CreateTicketRequest r;
  r.set_request_id("dup-1");
  r.mutable_ticket()->set_kind(v1::TICKET_KIND_COMPLAINT);
  r.mutable_ticket()->set_channel(v1::CHANNEL_HOTLINE);
  r.mutable_ticket()->set_content("同一小区又有住户反映水压不足。");
  r.mutable_ticket()->set_suspected_duplicate_of("T19990101-000001");
  v1::Ticket t;
  grpc::Status s = stub_->CreateTicket(ContextWithToken("agent").get(), r, &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "ticket.suspected_duplicate_of: ticket T19990101-000001 not found");
  r.mutable_ticket()->set_suspected_duplicate_of(earlier.id());
  ASSERT_TRUE(stub_->CreateTicket(ContextWithToken("agent").get(), r, &t).ok());
  EXPECT_EQ(t.suspected_duplicate_of(), earlier.id());
  t = Confirm(t);
  ASSERT_TRUE(Dispatch(t, "water", {}, &t).ok());
  EXPECT_EQ(Get(t.id(), "supervisor").suspected_duplicate_of(), earlier.id());
  EXPECT_TRUE(Get(t.id(), "water").suspected_duplicate_of().empty());
}

}  // namespace
}  // namespace hotline::ticket
