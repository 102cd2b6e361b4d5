#include "services/metrics/metrics_test_world.h"

#include <glog/logging.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/ticket/working_calendar.h"
#include "tests/support/test_tokens.h"
#include "tests/support/test_util.h"

namespace hotline::metrics::testing {
namespace {

using hotline::testing::ContextWithToken;

absl::Time T(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

const std::vector<std::string>& Categories() {
  // clang-format off
  static const auto* const categories = new std::vector<std::string>{
      "城乡建设/供水", "城乡建设/物业管理/维修基金", "城乡建设/物业管理", "社会保障/医保",
      "社会保障/养老", "交通/公交", "交通", "市场监管/消费投诉", ""};
  // clang-format on
  return *categories;
}

}  // namespace

absl::Time Shanghai(int y, int m, int d, int hh, int mm) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), ticket::ShanghaiTimeZone());
}

ticket::config::TicketConfig DeployedConfig() {
  auto config = ticket::LoadTicketConfig("deploy/config/ticket.textproto");
  CHECK(config.ok()) << config.status();
  return *config;
}

namespace {

std::vector<hotline::testing::TestPrincipal> Principals(
    const ticket::config::TicketConfig& config) {
  std::vector<hotline::testing::TestPrincipal> principals;
  for (const char* role : {"supervisor", "reviewer", "agent", "editor", "admin"}) {
    principals.push_back({role, absl::StrCat(role, "-test"), role});
  }
  for (const auto& d : config.departments()) {
    principals.push_back({d.id(), absl::StrCat(d.id(), "-system"), "department", d.id()});
  }
  return principals;
}

}  // namespace

std::string TokenFileContents(const ticket::config::TicketConfig& config) {
  return hotline::testing::TokenFileFor(Principals(config));
}

std::shared_ptr<const TokenRegistry> Tokens(const ticket::config::TicketConfig& config) {
  return hotline::testing::TokensFor(Principals(config));
}

TicketWorld::TicketWorld(const std::string& directory, ManualClock* clock, bool sync_writes)
    : clock_(clock), config_(DeployedConfig()), tokens_(Tokens(config_)) {
  auto calendar = ticket::WorkingCalendar::LoadDirectory("../shared/data/holiday-cn");
  CHECK(calendar.ok()) << calendar.status();
  calendar_ = *calendar;
  auto db = RocksStore::Open({.path = directory,
                              .column_families = ticket::TicketStore::Families(),
                              .sync_writes = sync_writes});
  CHECK(db.ok()) << db.status();
  db_ = std::move(*db);
  ticket::TicketServiceOptions options;
  options.config = config_;
  options.calendar = calendar_;
  options.clock = clock_;
  options.worker_threads = 16;
  service_ = std::make_unique<ticket::TicketService>(tokens_, db_.get(), options);
  CHECK(service_->Init().ok());
  host_ = std::make_unique<ServiceHost>(ServiceHostOptions{});
  host_->AddService(service_.get(), ticket::TicketService::kName);
  host_->AddShutdownHook([this] { service_->EndStreams(); });
  CHECK(host_->Start().ok());
  stub_ = tv1::TicketService::NewStub(hotline::testing::LocalChannel(host_->port()));
}

TicketWorld::~TicketWorld() {
  if (listener_ != 0) store().RemoveCommitListener(listener_);
  relay_.reset();
  host_->Shutdown();
  host_.reset();
  service_.reset();
  db_.reset();
}

std::vector<std::string> TicketWorld::departments() const {
  std::vector<std::string> out;
  for (const auto& d : config_.departments()) out.push_back(d.id());
  return out;
}

void TicketWorld::StartRelay(const std::string& redis_address, const std::string& stream_key) {
  RedisOptions options = *ParseRedisAddress(redis_address);
  options.connect_timeout = absl::Milliseconds(200);
  redis_ = std::make_unique<RedisClient>(options);
  relay_ = std::make_unique<ticket::OutboxRelay>(&store(), redis_.get(), stream_key);
  listener_ = store().AddCommitListener([this](int64_t) { relay_->Wake(); });
  relay_->Start();
}

std::vector<tv1::Ticket> TicketWorld::AllTickets() {
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&ids_mu_);
    ids = ids_;
  }
  std::vector<tv1::Ticket> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    tv1::GetTicketRequest request;
    request.set_ticket_id(id);
    request.set_view(tv1::TICKET_VIEW_FULL);
    tv1::Ticket t;
    grpc::Status s = stub_->GetTicket(ContextWithToken("supervisor").get(), request, &t);
    CHECK(s.ok()) << s.error_message();
    out.push_back(std::move(t));
  }
  return out;
}

std::string TicketWorld::RandomTicketId(uint64_t r) {
  absl::MutexLock lock(&ids_mu_);
  return ids_.empty() ? "" : ids_[r % ids_.size()];
}

std::string TicketWorld::NextRequestId() { return absl::StrCat("req-", ++request_counter_); }

std::string TicketWorld::OrderOf(const tv1::Ticket& t, const std::string& department) {
  for (int i = t.work_orders_size() - 1; i >= 0; --i) {
    if (t.work_orders(i).department_id() == department) return t.work_orders(i).id();
  }
  return "";
}

template <typename Request>
Request TicketWorld::ForWorkOrder(const tv1::Ticket& t, const std::string& work_order) {
  Request r;
  r.set_ticket_id(t.id());
  r.set_work_order_id(work_order);
  r.set_expected_version(t.version());
  r.set_request_id(NextRequestId());
  return r;
}

namespace {
// The department a work order belongs to: the token that may act on it.
std::string DepartmentOf(const tv1::Ticket& t, const std::string& work_order) {
  for (const tv1::WorkOrder& w : t.work_orders()) {
    if (w.id() == work_order) return w.department_id();
  }
  return "";
}
}  // namespace

grpc::Status TicketWorld::Create(tv1::Ticket* t, tv1::TicketKind kind, tv1::Channel channel,
                                 const std::string& category, tv1::Urgency urgency,
                                 const std::string& phone, bool answer_on_the_spot) {
  tv1::CreateTicketRequest r;
  r.set_request_id(NextRequestId());
  if (answer_on_the_spot) {
    tv1::DirectAnswer* answer = r.mutable_direct_answer();
    answer->set_answer_text("已按政策向来电人解释清楚，来电人表示满意。");
    tv1::KnowledgeCitation* cite = answer->add_citations();
    cite->set_entry_id("kb-entry-1");
    cite->set_passage_ordinal(2);
  }
  tv1::Ticket* in = r.mutable_ticket();
  in->set_kind(kind);
  in->set_channel(channel);
  in->set_urgency(urgency);
  in->set_caller_phone(phone);
  in->set_content("小区二次供水水压不足，高层住户早晚无法正常用水。");
  in->set_category_path(category);
  grpc::Status s = stub_->CreateTicket(ContextWithToken("agent").get(), r, t);
  if (s.ok()) {
    absl::MutexLock lock(&ids_mu_);
    ids_.push_back(t->id());
  }
  return s;
}

grpc::Status TicketWorld::Confirm(tv1::Ticket* t, const std::string& category) {
  tv1::ConfirmTicketRequest r;
  r.set_ticket_id(t->id());
  r.set_expected_version(t->version());
  r.set_request_id(NextRequestId());
  r.set_category_path(category);
  return stub_->ConfirmTicket(ContextWithToken("reviewer").get(), r, t);
}

grpc::Status TicketWorld::Dispatch(tv1::Ticket* t, const std::string& lead,
                                   const std::vector<std::string>& assists, int working_days) {
  tv1::DispatchTicketRequest r;
  r.set_ticket_id(t->id());
  r.set_expected_version(t->version());
  r.set_request_id(NextRequestId());
  r.mutable_lead()->set_department_id(lead);
  if (working_days > 0) r.mutable_lead()->mutable_time_limit()->set_working_days(working_days);
  for (const std::string& a : assists) {
    tv1::DepartmentAssignment* assignment = r.add_assists();
    assignment->set_department_id(a);
    if (working_days > 0) assignment->mutable_time_limit()->set_working_days(working_days);
  }
  return stub_->DispatchTicket(ContextWithToken("reviewer").get(), r, t);
}

grpc::Status TicketWorld::Sign(tv1::Ticket* t, const std::string& w) {
  auto r = ForWorkOrder<tv1::SignWorkOrderRequest>(*t, w);
  return stub_->SignWorkOrder(ContextWithToken(DepartmentOf(*t, w)).get(), r, t);
}

grpc::Status TicketWorld::Return(tv1::Ticket* t, const std::string& w) {
  auto r = ForWorkOrder<tv1::ReturnWorkOrderRequest>(*t, w);
  r.set_reason("不属于本单位职责");
  return stub_->ReturnWorkOrder(ContextWithToken(DepartmentOf(*t, w)).get(), r, t);
}

grpc::Status TicketWorld::Redispatch(tv1::Ticket* t, const std::string& w,
                                     const std::string& department) {
  tv1::RedispatchWorkOrderRequest r;
  r.set_ticket_id(t->id());
  r.set_work_order_id(w);
  r.set_expected_version(t->version());
  r.set_request_id(NextRequestId());
  if (department.empty()) {
    r.set_withdraw(true);
  } else {
    r.mutable_assignment()->set_department_id(department);
  }
  return stub_->RedispatchWorkOrder(ContextWithToken("reviewer").get(), r, t);
}

grpc::Status TicketWorld::RefuseReturn(tv1::Ticket* t, const std::string& w) {
  tv1::RefuseReturnRequest r;
  r.set_ticket_id(t->id());
  r.set_work_order_id(w);
  r.set_expected_version(t->version());
  r.set_request_id(NextRequestId());
  r.set_reason("派单正确");
  return stub_->RefuseReturn(ContextWithToken("reviewer").get(), r, t);
}

grpc::Status TicketWorld::RequestExtension(tv1::Ticket* t, const std::string& w, int working_days) {
  auto r = ForWorkOrder<tv1::RequestExtensionRequest>(*t, w);
  r.mutable_extension()->set_working_days(working_days);
  r.set_reason("需现场勘查");
  return stub_->RequestExtension(ContextWithToken(DepartmentOf(*t, w)).get(), r, t);
}

grpc::Status TicketWorld::DecideExtension(tv1::Ticket* t, const std::string& w, bool approve,
                                          int granted_days) {
  tv1::DecideExtensionRequest r;
  r.set_ticket_id(t->id());
  r.set_work_order_id(w);
  r.set_expected_version(t->version());
  r.set_request_id(NextRequestId());
  r.set_decision(approve ? tv1::EXTENSION_DECISION_APPROVE : tv1::EXTENSION_DECISION_REFUSE);
  if (approve && granted_days > 0) r.mutable_granted()->set_working_days(granted_days);
  if (!approve) r.set_reason("理由不充分");
  return stub_->DecideExtension(ContextWithToken("supervisor").get(), r, t);
}

grpc::Status TicketWorld::Reply(tv1::Ticket* t, const std::string& w) {
  auto r = ForWorkOrder<tv1::ReplyWorkOrderRequest>(*t, w);
  r.set_reply_text("已处理完毕。");
  return stub_->ReplyWorkOrder(ContextWithToken(DepartmentOf(*t, w)).get(), r, t);
}

grpc::Status TicketWorld::Note(tv1::Ticket* t, const std::string& w) {
  auto r = ForWorkOrder<tv1::AddProgressNoteRequest>(*t, w);
  r.set_text("已安排人员现场查看。");
  return stub_->AddProgressNote(ContextWithToken(DepartmentOf(*t, w)).get(), r, t);
}

grpc::Status TicketWorld::Urge(tv1::Ticket* t) {
  tv1::UrgeTicketRequest r;
  r.set_ticket_id(t->id());
  r.set_expected_version(t->version());
  r.set_request_id(NextRequestId());
  r.set_message("请加快办理");
  return stub_->UrgeTicket(ContextWithToken("supervisor").get(), r, t);
}

grpc::Status TicketWorld::Callback(tv1::Ticket* t, tv1::CallbackResult result) {
  tv1::RecordCallbackRequest r;
  r.set_ticket_id(t->id());
  r.set_expected_version(t->version());
  r.set_request_id(NextRequestId());
  r.set_result(result);
  return stub_->RecordCallback(ContextWithToken("agent").get(), r, t);
}

grpc::Status TicketWorld::Close(tv1::Ticket* t) {
  tv1::CloseTicketRequest r;
  r.set_ticket_id(t->id());
  r.set_expected_version(t->version());
  r.set_request_id(NextRequestId());
  r.set_reason("市民撤回诉求");
  return stub_->CloseTicket(ContextWithToken("supervisor").get(), r, t);
}

grpc::Status TicketWorld::Reopen(tv1::Ticket* t, const std::string& lead) {
  tv1::ReopenTicketRequest r;
  r.set_ticket_id(t->id());
  r.set_expected_version(t->version());
  r.set_request_id(NextRequestId());
  r.set_reason("督办要求重办");
  if (!lead.empty()) {
    r.mutable_lead()->set_department_id(lead);
    if (t->kind() == tv1::TICKET_KIND_UNRESOLVED_MATTER) {
      r.mutable_lead()->mutable_time_limit()->set_working_days(5);
    }
  }
  return stub_->ReopenTicket(ContextWithToken("supervisor").get(), r, t);
}

grpc::Status TicketWorld::Reject(tv1::Ticket* t) {
  tv1::RejectTicketRequest r;
  r.set_ticket_id(t->id());
  r.set_expected_version(t->version());
  r.set_request_id(NextRequestId());
  r.set_reason("不属于政府职能范围");
  return stub_->RejectTicket(ContextWithToken("reviewer").get(), r, t);
}

grpc::Status TicketWorld::Merge(tv1::Ticket* t, const std::string& target) {
  tv1::MergeTicketRequest r;
  r.set_ticket_id(t->id());
  r.set_expected_version(t->version());
  r.set_request_id(NextRequestId());
  r.set_target_ticket_id(target);
  return stub_->MergeTicket(ContextWithToken("reviewer").get(), r, t);
}

grpc::Status TicketWorld::Refresh(tv1::Ticket* t) {
  tv1::GetTicketRequest r;
  r.set_ticket_id(t->id());
  r.set_view(tv1::TICKET_VIEW_BASIC);
  return stub_->GetTicket(ContextWithToken("supervisor").get(), r, t);
}

// ---- The metrics service in process ----------------------------------------------------------

MetricsNode::MetricsNode(const std::string& directory, Clock* clock,
                         std::shared_ptr<const ticket::WorkingCalendar> calendar,
                         const ticket::config::TicketConfig& config,
                         const std::string& redis_address, int batch_size, rocksdb::Env* env,
                         std::function<void(MetricsServiceOptions*)> adjust) {
  auto db =
      RocksStore::Open({.path = directory, .column_families = Aggregates::Families(), .env = env});
  CHECK(db.ok()) << db.status();
  db_ = std::move(*db);
  aggregates_ = std::make_unique<Aggregates>(db_.get(), std::move(calendar));
  CHECK(aggregates_->Load().ok());
  if (!redis_address.empty()) {
    ConsumerOptions options;
    options.redis = *ParseRedisAddress(redis_address);
    options.redis.connect_timeout = absl::Milliseconds(200);
    options.batch_size = batch_size;
    options.block = absl::Milliseconds(200);
    consumer_ = std::make_unique<EventConsumer>(aggregates_.get(), options, clock);
    consumer_->Start();
  }
  MetricsServiceOptions options;
  options.clock = clock;
  options.dashboard_tick = absl::Milliseconds(20);
  for (const auto& d : config.departments()) options.department_names[d.id()] = d.name();
  if (adjust) adjust(&options);
  service_ =
      std::make_unique<MetricsService>(Tokens(config), aggregates_.get(), consumer_.get(), options);
  host_ = std::make_unique<ServiceHost>(ServiceHostOptions{});
  host_->AddService(service_.get(), MetricsService::kName);
  host_->AddShutdownHook([this] { service_->EndStreams(); });
  CHECK(host_->Start().ok());
  stub_ = mv1::MetricsService::NewStub(hotline::testing::LocalChannel(host_->port()));
}

MetricsNode::~MetricsNode() {
  if (consumer_) consumer_->Stop();
  host_->Shutdown();
  host_.reset();
  service_.reset();
  consumer_.reset();
  aggregates_.reset();
  db_.reset();
}

// ---- Random histories -----------------------------------------------------------------------

struct HistoryDriver::Active {
  tv1::Ticket ticket;
  std::mt19937_64 rng;
  bool done = false;
};

HistoryDriver::HistoryDriver(TicketWorld* world, HistoryOptions options)
    : world_(world), options_(options), departments_(world->departments()) {}

HistoryDriver::~HistoryDriver() = default;

void HistoryDriver::Run(int first, int last) {
  std::mt19937_64 rng(options_.seed * 1000003 + static_cast<uint64_t>(first));
  const int creation_rounds =
      std::max(1, static_cast<int>(options_.rounds * options_.creation_share));
  const int per_round = (options_.tickets + creation_rounds - 1) / creation_rounds;
  for (int round = first; round < last; ++round) {
    int64_t step = absl::ToInt64Minutes(options_.max_step);
    world_->clock()->Advance(
        absl::Minutes(5 + static_cast<int64_t>(rng() % std::max<int64_t>(1, step))));
    CHECK(world_->service().RunDueWarnings().ok());
    if (round < creation_rounds) {
      for (int i = 0; i < per_round && created_ < options_.tickets; ++i, ++created_) {
        auto a = std::make_unique<Active>();
        a->rng.seed(options_.seed * 7919 + static_cast<uint64_t>(created_));
        active_.push_back(std::move(a));
      }
    }
    std::vector<Active*> work;
    for (auto& a : active_) {
      if (!a->done) work.push_back(a.get());
    }
    std::atomic<size_t> next{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < options_.threads; ++i) {
      threads.emplace_back([&] {
        for (size_t k; (k = next++) < work.size();) Act(work[k], static_cast<uint64_t>(round));
      });
    }
    for (auto& th : threads) th.join();
  }
}

void HistoryDriver::Act(Active* a, uint64_t) {
  std::mt19937_64& rng = a->rng;
  tv1::Ticket& t = a->ticket;
  std::uniform_real_distribution<double> uniform(0, 1);
  auto chance = [&](double p) { return uniform(rng) < p; };
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  auto call = [&](grpc::Status s) {
    ++calls_;
    // Expected refusals (a window ended, a stale version after a merge) leave the ticket as
    // it is in the service: re-read it.
    if (!s.ok()) {
      ++calls_;
      grpc::Status r = world_->Refresh(&t);
      CHECK(r.ok()) << r.error_message();
    }
  };
  if (t.id().empty()) {
    static const tv1::TicketKind kinds[] = {
        tv1::TICKET_KIND_CONSULTATION, tv1::TICKET_KIND_CONSULTATION,
        tv1::TICKET_KIND_HELP_REQUEST, tv1::TICKET_KIND_SUGGESTION,
        tv1::TICKET_KIND_COMPLAINT,    tv1::TICKET_KIND_COMPLAINT,
        tv1::TICKET_KIND_REPORT,       tv1::TICKET_KIND_UNRESOLVED_MATTER};
    tv1::TicketKind kind = kinds[rng() % 8];
    tv1::Urgency urgency = tv1::URGENCY_NORMAL;
    double u = uniform(rng);
    if (u < 0.08 && kind != tv1::TICKET_KIND_SUGGESTION &&
        kind != tv1::TICKET_KIND_UNRESOLVED_MATTER) {
      urgency = tv1::URGENCY_EMERGENCY;
    } else if (u < 0.2 &&
               (kind == tv1::TICKET_KIND_CONSULTATION || kind == tv1::TICKET_KIND_COMPLAINT ||
                kind == tv1::TICKET_KIND_HELP_REQUEST)) {
      urgency = tv1::URGENCY_URGENT;
    }
    auto channel = static_cast<tv1::Channel>(1 + rng() % 4);
    // A share of the questions is answered during the call (直接办结).
    const bool on_the_spot =
        (kind == tv1::TICKET_KIND_CONSULTATION || kind == tv1::TICKET_KIND_HELP_REQUEST) &&
        chance(0.3);
    grpc::Status s = world_->Create(&t, kind, channel, pick(Categories()), urgency,
                                    chance(0.1) ? "" : "13812345678", on_the_spot);
    ++calls_;
    CHECK(s.ok()) << s.error_message();
    return;
  }
  if (!chance(0.45)) return;  // Not every matter moves every round.

  // The current cycle's active work orders.
  auto active = [&](const tv1::WorkOrder& w) {
    return w.cycle() == t.cycle() && w.state() != tv1::WORK_ORDER_STATE_REDISPATCHED &&
           w.state() != tv1::WORK_ORDER_STATE_CANCELLED;
  };
  switch (t.state()) {
    case tv1::TICKET_STATE_PENDING_REVIEW: {
      double r = uniform(rng);
      if (r < 0.05) {
        call(world_->Reject(&t));
      } else if (r < 0.10) {
        // A duplicate of some other matter (it may be final already: then the merge is refused).
        std::string target = world_->RandomTicketId(rng());
        if (target != t.id()) call(world_->Merge(&t, target));
      } else {
        call(world_->Confirm(&t, chance(0.2) ? pick(Categories()) : ""));
      }
      break;
    }
    case tv1::TICKET_STATE_PENDING_DISPATCH: {
      std::string lead = pick(departments_);
      std::vector<std::string> assists;
      int n = chance(0.25) ? (chance(0.3) ? 2 : 1) : 0;
      while (static_cast<int>(assists.size()) < n) {
        std::string d = pick(departments_);
        if (d != lead && std::find(assists.begin(), assists.end(), d) == assists.end()) {
          assists.push_back(d);
        }
      }
      int days =
          t.kind() == tv1::TICKET_KIND_UNRESOLVED_MATTER ? 5 + static_cast<int>(rng() % 6) : 0;
      call(world_->Dispatch(&t, lead, assists, days));
      break;
    }
    case tv1::TICKET_STATE_IN_PROGRESS:
    case tv1::TICKET_STATE_PENDING_REDISPATCH: {
      if (chance(0.02)) {
        call(world_->Close(&t));
        break;
      }
      if (chance(0.05)) {
        call(world_->Urge(&t));
        break;
      }
      for (const tv1::WorkOrder& w : t.work_orders()) {
        if (active(w) && w.extension().state() == tv1::EXTENSION_STATE_REQUESTED && chance(0.6)) {
          bool approve = chance(0.7);
          call(world_->DecideExtension(
              &t, w.id(), approve, approve && chance(0.25) ? 1 + static_cast<int>(rng() % 3) : 0));
          return;
        }
      }
      std::vector<const tv1::WorkOrder*> open;
      for (const tv1::WorkOrder& w : t.work_orders()) {
        if (active(w) && (w.state() == tv1::WORK_ORDER_STATE_PENDING_SIGN ||
                          w.state() == tv1::WORK_ORDER_STATE_SIGNED ||
                          w.state() == tv1::WORK_ORDER_STATE_RETURNED)) {
          open.push_back(&w);
        }
      }
      if (open.empty()) break;
      const tv1::WorkOrder w = *open[rng() % open.size()];
      double r = uniform(rng);
      switch (w.state()) {
        case tv1::WORK_ORDER_STATE_PENDING_SIGN:
          if (r < 0.7) {
            call(world_->Sign(&t, w.id()));
          } else if (r < 0.82) {
            call(world_->Return(&t, w.id()));
          }
          break;
        case tv1::WORK_ORDER_STATE_SIGNED:
          if (r < 0.5) {
            call(world_->Reply(&t, w.id()));
          } else if (r < 0.6) {
            call(world_->RequestExtension(&t, w.id(), 1 + static_cast<int>(rng() % 4)));
          } else if (r < 0.65) {
            call(world_->Note(&t, w.id()));
          } else if (r < 0.7) {
            call(world_->Return(&t, w.id()));
          }
          break;
        case tv1::WORK_ORDER_STATE_RETURNED: {
          std::vector<std::string> free;
          for (const std::string& d : departments_) {
            bool holds = d == w.department_id();
            for (const tv1::WorkOrder& o : t.work_orders())
              holds |= active(o) && o.department_id() == d;
            if (!holds) free.push_back(d);
          }
          bool assist = w.role() == tv1::WORK_ORDER_ROLE_ASSIST;
          if (r < 0.55 && !free.empty()) {
            call(world_->Redispatch(&t, w.id(), pick(free)));
          } else if (r < 0.85 || !assist) {
            call(world_->RefuseReturn(&t, w.id()));
          } else {
            call(world_->Redispatch(&t, w.id(), ""));
          }
          break;
        }
        default:
          break;
      }
      break;
    }
    case tv1::TICKET_STATE_PENDING_CALLBACK: {
      double r = uniform(rng);
      if (r < 0.04) {
        call(world_->Close(&t));
      } else if (r < 0.08) {
        call(world_->Reopen(&t, chance(0.5) ? pick(departments_) : ""));
      } else if (r < 0.95) {
        static const tv1::CallbackResult results[] = {
            tv1::CALLBACK_RESULT_SATISFIED,           tv1::CALLBACK_RESULT_SATISFIED,
            tv1::CALLBACK_RESULT_SATISFIED,           tv1::CALLBACK_RESULT_SATISFIED,
            tv1::CALLBACK_RESULT_BASICALLY_SATISFIED, tv1::CALLBACK_RESULT_BASICALLY_SATISFIED,
            tv1::CALLBACK_RESULT_DISSATISFIED,        tv1::CALLBACK_RESULT_DISSATISFIED,
            tv1::CALLBACK_RESULT_UNREACHABLE,         tv1::CALLBACK_RESULT_DECLINED};
        call(world_->Callback(&t, results[rng() % 10]));
      }
      break;
    }
    case tv1::TICKET_STATE_CLOSED:
      if (chance(0.04)) call(world_->Reopen(&t));
      break;
    default:
      a->done = true;  // Rejected or merged: final.
      break;
  }
}

// ---- Direct count -------------------------------------------------------------------------------

namespace {

// The reference's own count of each counter (figures.h), by the definitions in
// metrics.proto; the figures are then composed from them by the declared rates.
struct Tally {
  Counters c{};
  int64_t& operator[](Field f) { return c[f]; }
  bool Any() const {
    return std::any_of(c.begin(), c.end(), [](int64_t v) { return v != 0; });
  }
  void Add(const Tally& o) {
    for (int f = 0; f < kFieldCount; ++f) c[f] += o.c[f];
  }
};

mv1::Figures ToFigures(const Tally& t, absl::Time as_of) { return FiguresFromCounters(t.c, as_of); }

bool IsOpen(tv1::WorkOrderState s) {
  return s == tv1::WORK_ORDER_STATE_PENDING_SIGN || s == tv1::WORK_ORDER_STATE_SIGNED ||
         s == tv1::WORK_ORDER_STATE_RETURNED;
}

// metrics.v1.WorkOrderState of a work order, 0 when not in the backlog.
int BacklogState(tv1::WorkOrderState s, bool extension_requested, bool awaiting_callback) {
  switch (s) {
    case tv1::WORK_ORDER_STATE_PENDING_SIGN:
      return 1;
    case tv1::WORK_ORDER_STATE_SIGNED:
      return extension_requested ? 3 : 2;
    case tv1::WORK_ORDER_STATE_RETURNED:
      return 4;
    case tv1::WORK_ORDER_STATE_REPLIED:
      return awaiting_callback ? 5 : 0;
    default:
      return 0;
  }
}

}  // namespace

DirectResult DirectCount(const std::vector<tv1::Ticket>& tickets,
                         const ticket::WorkingCalendar& calendar, const DirectQuery& q) {
  const bool ended = q.end <= q.now;
  const absl::Time as_of = ended ? q.end : q.now;
  auto in_window = [&](absl::Time t) { return t >= q.start && t < q.end; };
  auto matches = [&](const std::string& department, const std::string& category, int channel) {
    if (!q.departments.empty() &&
        std::find(q.departments.begin(), q.departments.end(), department) == q.departments.end()) {
      return false;
    }
    if (!q.channels.empty() &&
        std::find(q.channels.begin(), q.channels.end(), channel) == q.channels.end()) {
      return false;
    }
    return q.category_prefix.empty() || category == q.category_prefix ||
           absl::StartsWith(category, q.category_prefix + "/");
  };
  auto key_of = [&](const std::string& department, const std::string& category, int channel) {
    switch (q.group_by) {
      case mv1::DIMENSION_DEPARTMENT:
        return department;
      case mv1::DIMENSION_CATEGORY: {
        std::vector<std::string> segments = absl::StrSplit(category, '/');
        if (category.empty() || static_cast<int>(segments.size()) <= q.category_depth)
          return category;
        segments.resize(q.category_depth);
        return absl::StrJoin(segments, "/");
      }
      case mv1::DIMENSION_CHANNEL:
        return absl::StrCat(channel);
      default:
        return std::string();
    }
  };

  std::map<std::string, Tally> rows;
  for (const tv1::Ticket& t : tickets) {
    const std::string& category = t.category_path();
    const int channel = t.channel();
    // Intake and answers on the spot count for the hotline itself (no department).
    if (matches("", category, channel) && in_window(T(t.create_time()))) {
      Tally& r = rows[key_of("", category, channel)];
      ++r[kIntake];
      if (t.has_direct_answer()) ++r[kAnsweredDirectly];
    }
    for (const tv1::WorkOrder& w : t.work_orders()) {
      if (!matches(w.department_id(), category, channel)) continue;
      Tally& r = rows[key_of(w.department_id(), category, channel)];
      // How a cancelled work order ended: a closure cancels in the same change as
      // TICKET_CLOSED; otherwise the dispatcher withdrew it (an accepted return).
      const tv1::TicketEvent* cancel = nullptr;
      for (const tv1::TicketEvent& e : t.events()) {
        if (e.work_order_id() == w.id() && e.type() == tv1::EVENT_TYPE_WORK_ORDER_CANCELLED)
          cancel = &e;
      }
      bool closure = false;
      if (cancel != nullptr) {
        for (const tv1::TicketEvent& e : t.events()) {
          closure |= e.type() == tv1::EVENT_TYPE_TICKET_CLOSED &&
                     e.ticket_version() == cancel->ticket_version();
        }
      }
      const bool cancelled = w.state() == tv1::WORK_ORDER_STATE_CANCELLED;
      const bool return_accepted =
          w.state() == tv1::WORK_ORDER_STATE_REDISPATCHED || (cancelled && !closure);
      const absl::Time deadline = T(w.deadline());
      const absl::Time sign_deadline = T(w.sign_deadline());

      // On-time completion and completion.
      if (w.state() == tv1::WORK_ORDER_STATE_REPLIED) {
        if (in_window(deadline)) ++r[w.on_time() ? kOnTime : kLate];
      } else if (IsOpen(w.state())) {
        if (in_window(deadline) && deadline < q.now) ++r[kOpenByDeadline];
      } else if (cancelled && closure && T(cancel->event_time()) > deadline &&
                 in_window(deadline)) {
        ++r[kLapsed];
      }
      // Timely signing.
      if (w.has_sign_time()) {
        if (in_window(sign_deadline)) {
          ++r[T(w.sign_time()) <= sign_deadline ? kSignTimely : kSignLate];
        }
      } else if (w.state() == tv1::WORK_ORDER_STATE_PENDING_SIGN) {
        if (in_window(sign_deadline) && sign_deadline < q.now) ++r[kSignOpen];
      } else if (cancelled && closure && !(w.has_return_time() && !w.return_refused()) &&
                 T(cancel->event_time()) > sign_deadline && in_window(sign_deadline)) {
        ++r[kSignLapsed];
      }
      // Signing time.
      if (w.has_sign_time() && in_window(T(w.sign_time()))) {
        ++r[kSigned];
        r[kSigningMicros] += absl::ToInt64Microseconds(T(w.sign_time()) - T(w.dispatch_time()));
      }
      // Returns.
      if (in_window(T(w.dispatch_time()))) {
        ++r[kDispatched];
        if (return_accepted) ++r[kReturned];
      }
      // Replies: reopen and handling time.
      if (w.state() == tv1::WORK_ORDER_STATE_REPLIED && in_window(T(w.reply_time()))) {
        ++r[kReplied];
        if (w.cycle() < t.cycle()) ++r[kReopened];
        r[kHandlingMicros] += std::llround(
            calendar.WorkingHoursBetween(T(w.dispatch_time()), T(w.reply_time())) * 3.6e9);
      }
      // Backlog at as_of: from the ticket as it is, or, for an ended window, from its history.
      int state = 0;
      tv1::WarningLevel level = tv1::WARNING_LEVEL_NONE;
      if (!ended) {
        bool awaiting = w.cycle() == t.cycle() && t.state() != tv1::TICKET_STATE_CLOSED;
        state = BacklogState(w.state(), w.extension().state() == tv1::EXTENSION_STATE_REQUESTED,
                             awaiting);
        level = w.warning_level();
      } else {
        tv1::WorkOrderState s = tv1::WORK_ORDER_STATE_UNSPECIFIED;
        bool extension = false;
        bool over = false;
        for (const tv1::TicketEvent& e : t.events()) {
          if (T(e.event_time()) >= as_of) break;
          if (e.work_order_id() == w.id()) {
            s = e.work_order_state();
            level = e.warning_level();
            if (e.type() == tv1::EVENT_TYPE_EXTENSION_REQUESTED) extension = true;
            if (e.type() == tv1::EVENT_TYPE_EXTENSION_APPROVED ||
                e.type() == tv1::EVENT_TYPE_EXTENSION_REFUSED ||
                e.type() == tv1::EVENT_TYPE_EXTENSION_WITHDRAWN) {
              extension = false;
            }
          }
          if (s == tv1::WORK_ORDER_STATE_REPLIED &&
              ((e.type() == tv1::EVENT_TYPE_TICKET_CLOSED && e.cycle() == w.cycle()) ||
               (e.type() == tv1::EVENT_TYPE_TICKET_REOPENED &&
                e.reopened().previous_cycle() == w.cycle()))) {
            over = true;
          }
        }
        state = BacklogState(s, extension, !over);
      }
      if (state != 0) ++r[BacklogField(state)];
      if (state >= 1 && state <= 4) {
        if (level == tv1::WARNING_LEVEL_YELLOW) ++r[kBacklogYellow];
        if (level == tv1::WARNING_LEVEL_RED) ++r[kBacklogRed];
      }
    }
    // Callbacks count for the lead department of the cycle they follow up.
    for (const tv1::CallbackRecord& c : t.callbacks()) {
      if (!in_window(T(c.record_time()))) continue;
      std::string lead;
      for (const tv1::WorkOrder& w : t.work_orders()) {
        if (w.cycle() == c.cycle() && w.role() == tv1::WORK_ORDER_ROLE_LEAD &&
            w.state() == tv1::WORK_ORDER_STATE_REPLIED) {
          lead = w.department_id();
        }
      }
      if (!matches(lead, category, channel)) continue;
      Tally& r = rows[key_of(lead, category, channel)];
      switch (c.result()) {
        case tv1::CALLBACK_RESULT_SATISFIED:
        case tv1::CALLBACK_RESULT_BASICALLY_SATISFIED:
          ++r[kCallbackGood];
          ++r[kCallbackRated];
          break;
        case tv1::CALLBACK_RESULT_DISSATISFIED:
          ++r[kCallbackRated];
          break;
        default:
          ++r[kCallbackUnreachable];
          break;
      }
    }
  }
  DirectResult out;
  Tally totals;
  for (const auto& [key, tally] : rows) {
    totals.Add(tally);
    if (q.group_by != mv1::DIMENSION_UNSPECIFIED && tally.Any()) {
      out.rows[key] = ToFigures(tally, as_of);
    }
  }
  out.totals = ToFigures(totals, as_of);
  return out;
}

std::string RowKeyText(const mv1::GroupKey& key) {
  switch (key.key_case()) {
    case mv1::GroupKey::kDepartmentId:
      return key.department_id();
    case mv1::GroupKey::kCategory:
      return key.category();
    case mv1::GroupKey::kChannel:
      return absl::StrCat(static_cast<int>(key.channel()));
    default:
      return "";
  }
}

std::string FiguresDiff(const mv1::Figures& e, const mv1::Figures& a) {
  // Every field, so a figure added to metrics.proto is compared without a change here; hours
  // are sums of microseconds, compared to 1e-6.
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_float_comparison(google::protobuf::util::DefaultFieldComparator::APPROXIMATE);
  comparator.SetDefaultFractionAndMargin(0, 1e-6);
  std::string out;
  bool same;
  {  // The report is complete once the differencer is gone.
    google::protobuf::util::MessageDifferencer differencer;
    differencer.set_field_comparator(&comparator);
    differencer.ReportDifferencesToString(&out);
    same = differencer.Compare(e, a);
  }
  if (!same && out.empty()) out = "the figures differ";
  return out;
}

}  // namespace hotline::metrics::testing
