#include "services/metrics/metrics_test_world.h"

#include <glog/logging.h>

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

}  // namespace hotline::metrics::testing
