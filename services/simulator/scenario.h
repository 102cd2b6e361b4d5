// What happens to one simulated ticket, decided up front from the seed (a Plan), and the next
// step to take given the ticket as the ticket service last returned it (NextStep). Pure: no
// rpcs and no clock, so every decision is unit-tested; the Simulator (simulator.h) sends the
// steps.
//
// Every time in a step is derived from instants the ticket service stamped (creation,
// dispatch, signing, deadline...), so on-time and late outcomes, warnings and rates are the
// service's own; the plan only says when each actor gets round to acting.
#ifndef HOTLINE_SERVICES_SIMULATOR_SCENARIO_H_
#define HOTLINE_SERVICES_SIMULATOR_SCENARIO_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "hotline/ticket/v1/ticket.pb.h"
#include "services/simulator/catalog.h"

namespace hotline::simulator {

// A small deterministic generator (SplitMix64): the same seed gives the same demo on every
// platform, which the standard distributions do not promise.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // In [0, 1).
  double Uniform();
  // In [0, n); n > 0.
  int Below(int n);
  // True with probability p.
  bool Chance(double p) { return Uniform() < p; }

 private:
  uint64_t state_;
};

enum class Fate {
  kConfirm,  // Confirmed at review and dispatched.
  kReject,   // Outside the government's remit: rejected at review.
  kMerge,    // A second caller's report of a matter already taken: merged (并单).
};

// How the lead department handles the first cycle against its deadline.
enum class Handling {
  kPrompt,            // Replies well before the deadline.
  kNearDeadline,      // Replies on the deadline day, after the yellow card.
  kLate,              // Urged after the deadline, replies a day or so late.
  kVeryLate,          // Stays overdue (red card) for more than a week before replying.
  kExtended,          // Asks for an extension, gets it, replies after the original deadline.
  kExtensionRefused,  // Asks for an extension, is refused, replies late.
};

struct Plan {
  Fate fate = Fate::kConfirm;
  int matter = 0;        // Index into Matters().
  int out_of_remit = 0;  // Index into OutOfRemitMatters(), for kReject.
  // The dispatcher first sends it to Matter::misrouted_to, which returns it (退单).
  bool misrouted = false;
  bool with_assist = false;  // Matter::assist assists (协办).
  bool late_sign = false;    // The lead signs after its signing deadline.
  Handling handling = Handling::kPrompt;
  // Callback results of the first cycle, in order; a later cycle is rated satisfied. A
  // dissatisfied result reopens the ticket (重办) by itself.
  std::vector<ticket::v1::CallbackResult> first_callbacks = {ticket::v1::CALLBACK_RESULT_SATISFIED};
  // A supervisor reopens the ticket after it was closed (the problem came back).
  bool reopen_after_close = false;

  ticket::v1::Channel channel = ticket::v1::CHANNEL_HOTLINE;
  int district = 0;
  int place = 0;
  std::string caller_name;
  std::string caller_phone;
  // Draws in [0, 1) for the actors' delays, so they are part of the plan, not of the run.
  double u[8] = {};
};

// How long people take over routine steps. The history of a fresh demo replays in hours and
// days of service time; once the service runs on real time the steps take minutes, so that
// the dashboard keeps moving for someone watching it.
struct Pace {
  // One routine step: review, dispatch, signing, a callback.
  absl::Duration step;
  // The longest a prompt reply takes after signing.
  absl::Duration prompt_reply;
  // Between closing a ticket and a supervisor's reopening.
  absl::Duration reopen_after;
};
Pace HistoryPace();
Pace LivePace();

// Plans are drawn from (seed, index) alone. The first ShowcaseCount() indices get a fixed
// showcase (one of each outcome the demo promises, on matters with short time limits, so that
// they play out within the history); later ones are random with realistic proportions. Only
// matters whose departments (lead, and assist or misrouting target when used) are in
// `departments` are chosen; `departments` must hold the lead department of at least one
// matter.
Plan DrawPlan(uint64_t seed, int index, const std::set<std::string>& departments);
int ShowcaseCount();

// The ticket CreateTicket is sent, from a plan (content, place, caller, classification).
ticket::v1::Ticket TicketToCreate(const Plan& plan);

// One simulated ticket.
struct Case {
  int index = 0;
  Plan plan;
  Pace pace;
  // For Fate::kMerge: the ticket it duplicates; empty means it is confirmed instead.
  std::string merge_target;
  // The ticket as the service last returned it; no id before creation.
  ticket::v1::Ticket ticket;
  bool reopened_by_supervisor = false;
};

struct Step {
  enum class Kind {
    kNone,  // Nothing more to do for this ticket.
    kConfirm,
    kReject,
    kMerge,
    kDispatch,
    kSign,
    kReturn,
    kRedispatch,
    kRequestExtension,
    kApproveExtension,
    kRefuseExtension,
    kReply,
    kUrge,
    kCallback,
    kReopen,
  };
  Kind kind = Kind::kNone;
  // Service time at which the actor acts.
  absl::Time due = absl::InfiniteFuture();
  // The work order acted on, for work-order steps.
  std::string work_order_id;
  // The acting department for department steps; the target for dispatch and re-routing.
  std::string department_id;
  ticket::v1::CallbackResult callback = ticket::v1::CALLBACK_RESULT_UNSPECIFIED;
};

const char* StepName(Step::Kind kind);

// The next step of a created case, and when it is due. kNone when the ticket is final (or
// closed for good), or waits for nobody the simulator plays.
Step NextStep(const Case& c);

}  // namespace hotline::simulator

#endif  // HOTLINE_SERVICES_SIMULATOR_SCENARIO_H_
