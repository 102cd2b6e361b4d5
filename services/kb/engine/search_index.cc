#include "services/kb/engine/search_index.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "services/kb/engine/internal/index_impl.h"
#include "services/kb/text/internal/utf8.h"

namespace hotline::kb {

SearchIndex::SearchIndex(std::shared_ptr<const Analyzer> analyzer, RankingParams params)
    : analyzer_(std::move(analyzer)), params_(params), impl_(std::make_unique<Impl>()) {}

SearchIndex::~SearchIndex() = default;

absl::Status SearchIndex::LoadSynonyms(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, "synonyms file"));
  absl::Status s = ParseSynonyms(text);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  return s;
}

absl::Status SearchIndex::ParseSynonyms(absl::string_view text) {
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> sides = absl::StrSplit(line, "=>");
    if (sides.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": expected 'everyday word => official term, ...'"));
    }
    absl::StatusOr<std::vector<Token>> key =
        analyzer_->Analyze(absl::StripAsciiWhitespace(sides[0]), AnalyzeMode::kIndex);
    if (!key.ok() || key->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": empty word"));
    }
    // Keyed by the normalised form, as queries are.
    std::string normalized;
    for (const Token& t : *key) {
      if (t.kind == TokenKind::kWord) normalized += t.text;
    }
    for (absl::string_view official : absl::StrSplit(sides[1], ',', absl::SkipWhitespace())) {
      impl_->synonyms[normalized].emplace_back(absl::StripAsciiWhitespace(official));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const AnalyzedDocument>> SearchIndex::Analyze(
    DocumentInput doc) const {
  auto out = std::make_shared<AnalyzedDocument>();
  auto count_doc = [&](absl::string_view text, int field, uint32_t* length) -> absl::Status {
    if (text.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::vector<Token> tokens, analyzer_->Analyze(text, AnalyzeMode::kIndex));
    for (const Token& t : tokens) {
      out->doc_terms[KeyOf(t)][field]++;
      *length += t.kind == TokenKind::kWord;
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(count_doc(doc.title, 0, &out->title_length));
  for (const std::string& t : doc.other_titles) {
    RETURN_IF_ERROR(count_doc(t, 0, &out->title_length));
  }
  RETURN_IF_ERROR(count_doc(doc.question, 1, &out->question_length));
  for (const std::string& t : doc.tags) RETURN_IF_ERROR(count_doc(t, 2, &out->tags_length));

  for (PassageText& p : doc.passages) {
    AnalyzedPassage& ap = out->passages.emplace_back();
    ASSIGN_OR_RETURN(std::vector<Token> body, analyzer_->Analyze(p.text, AnalyzeMode::kIndex));
    for (const Token& t : body) {
      ap.terms[KeyOf(t)][0]++;
      if (t.kind == TokenKind::kWord) {
        ++ap.body_length;
        ap.words.push_back(t.text);
      }
    }
    if (!p.heading.empty()) {
      ASSIGN_OR_RETURN(std::vector<Token> heading,
                       analyzer_->Analyze(p.heading, AnalyzeMode::kIndex));
      for (const Token& t : heading) {
        ap.terms[KeyOf(t)][1]++;
        ap.heading_length += t.kind == TokenKind::kWord;
      }
    }
    ap.text = std::move(p);
  }
  doc.passages.clear();
  out->meta = std::move(doc);
  return std::shared_ptr<const AnalyzedDocument>(std::move(out));
}

void SearchIndex::Insert(std::shared_ptr<const AnalyzedDocument> doc) {
  std::string id = doc->meta.id;
  absl::MutexLock lock(&impl_->mu);
  impl_->InsertLocked(std::move(doc), id);
}

void SearchIndex::InsertCopy(const std::shared_ptr<const AnalyzedDocument>& doc,
                             const std::string& new_id) {
  absl::MutexLock lock(&impl_->mu);
  impl_->InsertLocked(doc, new_id);
}

absl::Status SearchIndex::Upsert(DocumentInput doc) {
  ASSIGN_OR_RETURN(std::shared_ptr<const AnalyzedDocument> analyzed, Analyze(std::move(doc)));
  Insert(std::move(analyzed));
  return absl::OkStatus();
}

bool SearchIndex::Remove(const std::string& id) {
  absl::MutexLock lock(&impl_->mu);
  auto it = impl_->doc_by_id.find(id);
  if (it == impl_->doc_by_id.end()) return false;
  impl_->RemoveLocked(it->second);
  return true;
}

size_t SearchIndex::passage_count() const {
  absl::ReaderMutexLock lock(&impl_->mu);
  return static_cast<size_t>(impl_->live_passages);
}

size_t SearchIndex::entry_count() const {
  absl::ReaderMutexLock lock(&impl_->mu);
  return static_cast<size_t>(impl_->live_docs);
}

size_t SearchIndex::term_count() const {
  absl::ReaderMutexLock lock(&impl_->mu);
  return static_cast<size_t>(std::count_if(impl_->postings.begin(), impl_->postings.end(),
                                           [](const auto& p) { return !p.empty(); }));
}

size_t SearchIndex::MemoryBytes() const {
  absl::ReaderMutexLock lock(&impl_->mu);
  size_t bytes = 0;
  for (const auto& p : impl_->postings) bytes += p.capacity() * sizeof(Posting) + sizeof(p);
  for (const auto& p : impl_->passages) bytes += sizeof(p) + p.words.capacity() * 4;
  bytes += impl_->passage_doc.capacity() * sizeof(uint32_t) +
           impl_->doc_scoring.capacity() * sizeof(Impl::DocScoring) +
           (impl_->passage_dead.capacity() + impl_->passage_hidden.capacity()) * sizeof(uint64_t);
  for (const auto& [key, id] : impl_->term_ids) bytes += key.capacity() + 16;
  for (const auto& d : impl_->docs) {
    if (d.doc == nullptr) continue;
    for (const auto& p : d.doc->passages) bytes += p.text.capacity() + p.label.capacity();
    bytes += d.passage_by_label.capacity() * (sizeof(std::string_view) + sizeof(uint32_t) + 1);
  }
  return bytes;
}

}  // namespace hotline::kb
