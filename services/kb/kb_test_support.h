// What the knowledge-base tests share: the real analyser (jieba's dictionary from Debian's
// python3-jieba, our domain dictionary and stop words), classifier and tagger, each loaded once
// per test binary, and service options that use them. Paths are relative to the repository
// root, where the tests run.
#ifndef HOTLINE_SERVICES_KB_KB_TEST_SUPPORT_H_
#define HOTLINE_SERVICES_KB_KB_TEST_SUPPORT_H_

#include <memory>
#include <string>

#include "common/clock.h"
#include "services/kb/ingest/classifier.h"
#include "services/kb/ingest/tagger.h"
#include "services/kb/kb_service.h"
#include "services/kb/text/analyzer.h"

namespace hotline::kb::test_support {

std::shared_ptr<const Analyzer> RealAnalyzer();
std::shared_ptr<const ingest::Classifier> RealClassifier();
std::shared_ptr<const ingest::Tagger> RealTagger();

// The full ingestion pipeline and the synonym file, on `clock`.
KnowledgeBaseServiceOptions RealServiceOptions(Clock* clock);

// The code points of `s` from `start` to `end`, for checking highlight offsets.
std::string CodePointSlice(const std::string& s, int start, int end);

}  // namespace hotline::kb::test_support

#endif  // HOTLINE_SERVICES_KB_KB_TEST_SUPPORT_H_
