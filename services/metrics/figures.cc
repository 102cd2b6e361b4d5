#include "services/metrics/figures.h"

#include <glog/logging.h>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"

namespace hotline::metrics {

v1::Rate MakeRate(int64_t numerator, int64_t denominator) {
  v1::Rate r;
  r.set_numerator(numerator);
  r.set_denominator(denominator);
  r.set_has_value(denominator > 0);
  r.set_value(denominator > 0 ? static_cast<double>(numerator) / denominator : 0);
  return r;
}

namespace {

int64_t Sum(const Counters& c, const std::vector<Field>& fields) {
  int64_t sum = 0;
  for (Field f : fields) sum += c[f];
  return sum;
}

google::protobuf::Message* MutableFigure(v1::Figures* figures, const char* name) {
  const google::protobuf::FieldDescriptor* field = v1::Figures::descriptor()->FindFieldByName(name);
  CHECK(field != nullptr && field->message_type() != nullptr)
      << "hotline.metrics.v1.Figures has no message field " << name;
  return figures->GetReflection()->MutableMessage(figures, field);
}

// Sets an average message: count, total_*, has_average, average_* (metrics.proto's shape).
void SetAverage(google::protobuf::Message* average, int64_t count, double total_hours) {
  const google::protobuf::Descriptor* d = average->GetDescriptor();
  const google::protobuf::Reflection* r = average->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->name() == "count") {
      r->SetInt64(average, f, count);
    } else if (f->name() == "has_average") {
      r->SetBool(average, f, count > 0);
    } else if (absl::StartsWith(f->name(), "total_")) {
      r->SetDouble(average, f, total_hours);
    } else if (absl::StartsWith(f->name(), "average_")) {
      r->SetDouble(average, f, count > 0 ? total_hours / count : 0);
    }
  }
}

constexpr std::pair<v1::WorkOrderState, Field> kBacklogStates[] = {
    {v1::WORK_ORDER_STATE_AWAITING_SIGN, kBacklogAwaitingSign},
    {v1::WORK_ORDER_STATE_IN_PROGRESS, kBacklogInProgress},
    {v1::WORK_ORDER_STATE_EXTENSION_REQUESTED, kBacklogExtensionRequested},
    {v1::WORK_ORDER_STATE_RETURN_REQUESTED, kBacklogReturnRequested},
    {v1::WORK_ORDER_STATE_AWAITING_CALLBACK, kBacklogAwaitingCallback},
};

}  // namespace

v1::Figures FiguresFromCounters(const Counters& c, absl::Time as_of) {
  v1::Figures f;
  for (const RateSpec& rate : Rates()) {
    *static_cast<v1::Rate*>(MutableFigure(&f, rate.field)) =
        MakeRate(Sum(c, rate.numerator), Sum(c, rate.denominator));
  }
  for (const AverageSpec& average : Averages()) {
    SetAverage(MutableFigure(&f, average.field), c[average.count],
               static_cast<double>(c[average.total_micros]) / 3.6e9);
  }
  v1::Backlog* b = f.mutable_backlog();
  *b->mutable_as_of() = ToProtoTime(as_of);
  int64_t open = 0;
  for (const auto& [state, field] : kBacklogStates) {
    const int64_t count = c[field];
    if (count != 0) {
      v1::BacklogStateCount* s = b->add_by_state();
      s->set_state(state);
      s->set_count(count);
    }
    if (state != v1::WORK_ORDER_STATE_AWAITING_CALLBACK) open += count;
  }
  b->set_open_total(open);
  b->set_yellow_count(c[kBacklogYellow]);
  b->set_red_count(c[kBacklogRed]);
  f.set_callbacks_unreachable(c[kCallbackUnreachable]);
  return f;
}

std::string VocabularyScript() {
  nlohmann::json rates = nlohmann::json::array();
  for (const RateSpec& r : Rates()) {
    rates.push_back({{"field", r.field},
                     {"label", r.label},
                     {"key", r.key},
                     {"numerator_label", r.numerator_label},
                     {"denominator_label", r.denominator_label},
                     {"primary", r.primary}});
  }
  nlohmann::json averages = nlohmann::json::array();
  for (const AverageSpec& a : Averages()) {
    averages.push_back({{"field", a.field}, {"label", a.label}, {"unit", a.unit}, {"key", a.key}});
  }
  const nlohmann::json vocabulary = {{"rates", rates}, {"averages", averages}};
  return absl::StrCat(
      "\"use strict\";\n// The metrics' rates and averages, from the service's declarations "
      "(services/metrics/figures.h).\nvar HOTLINE_METRICS_VOCABULARY = ",
      vocabulary.dump(), ";\n");
}

}  // namespace hotline::metrics
