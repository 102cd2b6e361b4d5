// One analyser for all ingestion tests (loading jieba's dictionary takes about a second), with the
// search engine's real dictionaries: jieba's from Debian's python3-jieba, our domain dictionary
// and stop words.
#ifndef HOTLINE_SERVICES_KB_INGEST_TEST_ANALYZER_H_
#define HOTLINE_SERVICES_KB_INGEST_TEST_ANALYZER_H_

#include <memory>

#include "services/kb/text/analyzer.h"

namespace hotline::kb::ingest {

std::shared_ptr<const Analyzer> TestAnalyzer();

}  // namespace hotline::kb::ingest

#endif  // HOTLINE_SERVICES_KB_INGEST_TEST_ANALYZER_H_
