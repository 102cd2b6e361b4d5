// Flags shared by the knowledge-base binaries (server, kb_eval, benchmark): where the
// dictionaries are, and the ranking weights (defaults in RankingParams).
#ifndef HOTLINE_SERVICES_KB_KB_FLAGS_H_
#define HOTLINE_SERVICES_KB_KB_FLAGS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "services/kb/engine/search_index.h"
#include "services/kb/text/analyzer.h"

namespace hotline::kb {

absl::StatusOr<std::shared_ptr<const Analyzer>> CreateAnalyzerFromFlags();
RankingParams RankingParamsFromFlags();
absl::Status LoadSynonymsFromFlags(SearchIndex& index);
// Sets one RankingParams field by name (k1, b_body, weight_title, bigram, ...); false if unknown.
bool SetRankingParam(absl::string_view name, double value, RankingParams* params);

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_KB_FLAGS_H_
