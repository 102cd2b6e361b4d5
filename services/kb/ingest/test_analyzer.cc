#include "services/kb/ingest/test_analyzer.h"

#include "glog/logging.h"

namespace hotline::kb::ingest {

std::shared_ptr<const Analyzer> TestAnalyzer() {
  static const auto* const analyzer = [] {
    AnalyzerOptions options;
    options.extra_dict_paths = {KB_TEXT_DATA_DIR "/domain_dict.txt"};
    options.stopwords_path = KB_TEXT_DATA_DIR "/stopwords.txt";
    absl::StatusOr<std::unique_ptr<Analyzer>> created = Analyzer::Create(options);
    CHECK(created.ok()) << created.status();
    return new std::shared_ptr<const Analyzer>(*std::move(created));
  }();
  return *analyzer;
}

}  // namespace hotline::kb::ingest
