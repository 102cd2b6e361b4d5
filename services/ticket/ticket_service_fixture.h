// The fixture of the ticket service's tests: the service through a real gRPC server on port 0,
// a real RocksDB in a temporary directory, the real holiday calendar and the deployed
// configuration; time is a ManualClock. Shared by the test files of the service.
#ifndef HOTLINE_SERVICES_TICKET_TICKET_SERVICE_FIXTURE_H_
#define HOTLINE_SERVICES_TICKET_TICKET_SERVICE_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/service_host.h"
#include "services/ticket/ticket_service.h"
#include "tests/support/service_test_base.h"
#include "tests/support/test_tokens.h"
#include "tests/support/test_util.h"

namespace hotline::ticket {

using testing::ContextWithToken;

inline absl::Time Shanghai(int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), ShanghaiTimeZone());
}

// The end of a Shanghai calendar day: where working-day deadlines fall.
inline absl::Time EndOfDay(int y, int m, int d) {
  return absl::FromCivil(absl::CivilDay(y, m, d) + 1, ShanghaiTimeZone()) - absl::Microseconds(1);
}

class TicketServiceTest : public testing::ServiceTestBase {
 protected:
  // Thursday 26 September 2024, just before the National Day holiday.
  TicketServiceTest() : clock_(Shanghai(2024, 9, 26, 10)) {}

  void SetUp() override {
    tokens_ = testing::TokensFor({{"agent", "agent-zhang", "agent"},
                                  {"reviewer", "reviewer-liu", "reviewer"},
                                  {"supervisor", "supervisor-chen", "supervisor"},
                                  {"editor", "editor-wang", "editor"},
                                  {"water", "water-system", "department", "water"},
                                  {"housing", "housing-system", "department", "housing"},
                                  {"hrss", "hrss-system", "department", "hrss"}});
    auto calendar = WorkingCalendar::LoadDirectory("../shared/data/holiday-cn");
    ASSERT_TRUE(calendar.ok()) << calendar.status();
    calendar_ = *calendar;
    auto config = LoadTicketConfig("deploy/config/ticket.textproto");
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
    Start();
  }

  void TearDown() override { Stop(); }

  std::vector<std::string> StoreFamilies() const override { return TicketStore::Families(); }

  void StartService(RocksStore* store, ServiceHost* host) override {
    TicketServiceOptions options;
    options.config = config_;
    options.calendar = calendar_;
    options.clock = &clock_;
    options.worker_threads = 8;
    service_ = std::make_unique<TicketService>(tokens_, store, options);
    ASSERT_TRUE(service_->Init().ok());
    host->AddService(service_.get(), TicketService::kName);
    host->AddShutdownHook([this] { service_->EndStreams(); });
  }

  void Started(int port) override {
    stub_ = v1::TicketService::NewStub(testing::LocalChannel(port));
  }

  void StopService() override {
    stub_.reset();
    service_.reset();
  }

  v1::Ticket Create(const std::string& phone = "13812345678", bool confidential = false) {
    v1::CreateTicketRequest request;
    request.set_request_id(absl::StrCat("req-", ++request_counter_));
    v1::Ticket* t = request.mutable_ticket();
    t->set_kind(v1::TICKET_KIND_COMPLAINT);
    t->set_channel(v1::CHANNEL_HOTLINE);
    t->set_caller_name("王女士");
    t->set_caller_phone(phone);
    t->set_confidential(confidential);
    t->set_content("小区二次供水水压不足，高层住户早晚无法正常用水。");
    t->set_category_path("城乡建设/供水");
    v1::Ticket out;
    grpc::Status s = stub_->CreateTicket(ContextWithToken("agent").get(), request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::Ticket Confirm(const v1::Ticket& t) {
    v1::ConfirmTicketRequest r;
    r.set_ticket_id(t.id());
    r.set_expected_version(t.version());
    v1::Ticket out;
    grpc::Status s = stub_->ConfirmTicket(ContextWithToken("reviewer").get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Dispatch(const v1::Ticket& t, const std::string& lead,
                        std::vector<std::string> assists, v1::Ticket* out) {
    v1::DispatchTicketRequest r;
    r.set_ticket_id(t.id());
    r.set_expected_version(t.version());
    r.mutable_lead()->set_department_id(lead);
    for (const std::string& a : assists) r.add_assists()->set_department_id(a);
    return stub_->DispatchTicket(ContextWithToken("reviewer").get(), r, out);
  }

  const v1::WorkOrder& Order(const v1::Ticket& t, const std::string& department) {
    for (int i = t.work_orders_size() - 1; i >= 0; --i) {
      if (t.work_orders(i).department_id() == department) return t.work_orders(i);
    }
    ADD_FAILURE() << "no work order for " << department;
    return t.work_orders(0);
  }

  template <typename Request>
  Request WorkOrderRequest(const v1::Ticket& t, const std::string& department) {
    Request r;
    r.set_ticket_id(t.id());
    r.set_work_order_id(Order(t, department).id());
    r.set_expected_version(t.version());
    return r;
  }

  v1::Ticket Sign(const v1::Ticket& t, const std::string& department) {
    v1::Ticket out;
    grpc::Status s =
        stub_->SignWorkOrder(ContextWithToken(department).get(),
                             WorkOrderRequest<v1::SignWorkOrderRequest>(t, department), &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::Ticket Reply(const v1::Ticket& t, const std::string& department) {
    auto r = WorkOrderRequest<v1::ReplyWorkOrderRequest>(t, department);
    r.set_reply_text("已协调物业更换加压泵，水压恢复正常。");
    v1::Ticket out;
    grpc::Status s = stub_->ReplyWorkOrder(ContextWithToken(department).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::Ticket Callback(const v1::Ticket& t, v1::CallbackResult result) {
    v1::RecordCallbackRequest r;
    r.set_ticket_id(t.id());
    r.set_expected_version(t.version());
    r.set_result(result);
    v1::Ticket out;
    grpc::Status s = stub_->RecordCallback(ContextWithToken("agent").get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::Ticket Get(const std::string& id, const std::string& token = "supervisor") {
    v1::GetTicketRequest r;
    r.set_ticket_id(id);
    v1::Ticket out;
    grpc::Status s = stub_->GetTicket(ContextWithToken(token).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  ManualClock clock_;
  std::shared_ptr<const TokenRegistry> tokens_;
  std::shared_ptr<const WorkingCalendar> calendar_;
  config::TicketConfig config_;
  std::unique_ptr<TicketService> service_;
  std::unique_ptr<v1::TicketService::Stub> stub_;
  int request_counter_ = 0;
};

}  // namespace hotline::ticket

#endif  // HOTLINE_SERVICES_TICKET_TICKET_SERVICE_FIXTURE_H_
