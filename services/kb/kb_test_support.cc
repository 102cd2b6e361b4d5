#include "services/kb/kb_test_support.h"

#include <glog/logging.h>

#include <vector>

namespace hotline::kb::test_support {

std::shared_ptr<const Analyzer> RealAnalyzer() {
  static const auto* const analyzer = [] {
    AnalyzerOptions options;
    options.jieba_dict_path = "/usr/lib/python3/dist-packages/jieba/dict.txt";
    options.extra_dict_paths = {"services/kb/text/data/domain_dict.txt"};
    options.stopwords_path = "services/kb/text/data/stopwords.txt";
    absl::StatusOr<std::unique_ptr<Analyzer>> created = Analyzer::Create(options);
    CHECK(created.ok()) << created.status();
    return new std::shared_ptr<const Analyzer>(*std::move(created));
  }();
  return *analyzer;
}

std::shared_ptr<const ingest::Classifier> RealClassifier() {
  static const auto* const classifier = [] {
    auto loaded = ingest::Classifier::Load("services/kb/ingest/data/taxonomy.txt", RealAnalyzer());
    CHECK(loaded.ok()) << loaded.status();
    return new std::shared_ptr<const ingest::Classifier>(*std::move(loaded));
  }();
  return *classifier;
}

std::shared_ptr<const ingest::Tagger> RealTagger() {
  static const auto* const tagger = [] {
    ingest::TaggerOptions options;
    options.domain_dict_paths = {"services/kb/text/data/domain_dict.txt"};
    auto created = ingest::Tagger::Create(options, RealAnalyzer());
    CHECK(created.ok()) << created.status();
    return new std::shared_ptr<const ingest::Tagger>(*std::move(created));
  }();
  return *tagger;
}

KnowledgeBaseServiceOptions RealServiceOptions(Clock* clock) {
  KnowledgeBaseServiceOptions options;
  options.analyzer = RealAnalyzer();
  options.synonyms_path = "services/kb/engine/data/synonyms.txt";
  options.clock = clock;
  options.classifier = RealClassifier();
  options.tagger = RealTagger();
  return options;
}

std::string CodePointSlice(const std::string& s, int start, int end) {
  std::vector<size_t> at;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) at.push_back(i);
  }
  at.push_back(s.size());
  return s.substr(at[start], at[end] - at[start]);
}

}  // namespace hotline::kb::test_support
