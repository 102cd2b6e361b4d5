// What the search index's two files share (search_index.cc builds, stores and loads the index;
// search_query.cc answers queries): the index's in-memory layout and its term keys. Not part of
// the index's interface.
#ifndef HOTLINE_SERVICES_KB_ENGINE_INTERNAL_INDEX_IMPL_H_
#define HOTLINE_SERVICES_KB_ENGINE_INTERNAL_INDEX_IMPL_H_

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/kb/engine/search_index.h"
#include "services/kb/text/internal/utf8.h"

namespace hotline::kb {
namespace index_internal {

enum Field { kBody, kTitle, kHeading, kQuestion, kTags, kFieldCount };

// Term keys: dictionary words (and their sub-words) as themselves; character bigrams and
// unigrams in namespaces of their own, so "医保" the word and "医保" the bigram score apart.
inline std::string BigramKey(absl::string_view s) {
  return absl::StrCat(
      "\x01"
      "b",
      s);
}
inline std::string UnigramKey(absl::string_view s) {
  return absl::StrCat(
      "\x01"
      "u",
      s);
}

inline bool IsWordKind(TokenKind k) { return k == TokenKind::kWord || k == TokenKind::kSubWord; }

inline std::string KeyOf(const Token& t) {
  switch (t.kind) {
    case TokenKind::kBigram:
      return BigramKey(t.text);
    case TokenKind::kUnigram:
      return UnigramKey(t.text);
    default:
      return t.text;
  }
}

// Byte offset of every code point of a UTF-8 string, plus the end.
inline std::vector<size_t> CodePointStarts(absl::string_view s) {
  std::vector<size_t> out;
  out.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  }
  out.push_back(s.size());
  return out;
}

inline bool PathHasPrefix(const std::string& path, const std::string& prefix) {
  std::string p(absl::StripSuffix(prefix, "/"));
  return path == p || absl::StartsWith(path, p + "/");
}

inline bool IsInactive(v1::EntryStatus s) {
  return s == v1::ENTRY_STATUS_AMENDED || s == v1::ENTRY_STATUS_REPEALED ||
         s == v1::ENTRY_STATUS_EXPIRED;
}

// 12 bytes. The passage's body length rides along (it fits in what alignment would pad), so
// scoring a posting reads nothing else of the passage.
struct Posting {
  uint32_t passage;
  uint16_t body;
  uint16_t body_length;
  uint8_t title;
  uint8_t heading;
  uint8_t question;
  uint8_t tags;
};

template <typename T>
T Saturate(uint32_t v) {
  return static_cast<T>(std::min<uint32_t>(v, std::numeric_limits<T>::max()));
}

// Marks where the query's words and character pairs occur in a text, by searching its normalised
// form: every pair of adjacent Chinese characters is a bigram token of the index, so this finds
// what re-segmenting the text would, at a small fraction of the cost (a hit's passage may be a
// whole chapter of a law, and segmenting it took milliseconds).
class Highlighter {
 public:
  Highlighter(const Normalizer& normalizer, const std::vector<std::string>& keys)
      : normalizer_(normalizer) {
    for (const std::string& key : keys) {
      std::vector<char32_t> chars;
      // A single character would mark it inside every other word too.
      if (!text_internal::DecodeUtf8(key, &chars).ok() || chars.size() < 2) continue;
      by_first_[chars[0]].push_back(keys_.size());
      keys_.push_back(std::move(chars));
    }
  }

  // Merged [start, end) ranges, in code points of the original `text`.
  std::vector<std::pair<int, int>> Ranges(absl::string_view text) const {
    std::vector<std::pair<int, int>> ranges;
    if (keys_.empty() || !normalizer_.Normalize(text, &normalized_).ok()) return ranges;
    const std::vector<char32_t>& t = normalized_.text;
    for (size_t i = 0; i < t.size(); ++i) {
      auto first = by_first_.find(t[i]);
      if (first == by_first_.end()) continue;
      for (size_t k : first->second) {
        const std::vector<char32_t>& key = keys_[k];
        if (i + key.size() <= t.size() && std::equal(key.begin(), key.end(), t.begin() + i)) {
          ranges.emplace_back(normalized_.source_begin[i],
                              normalized_.source_end[i + key.size() - 1]);
        }
      }
    }
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<int, int>> merged;
    for (const auto& r : ranges) {
      if (!merged.empty() && r.first <= merged.back().second) {
        merged.back().second = std::max(merged.back().second, r.second);
      } else {
        merged.push_back(r);
      }
    }
    return merged;
  }

 private:
  const Normalizer& normalizer_;
  std::vector<std::vector<char32_t>> keys_;
  absl::flat_hash_map<char32_t, std::vector<size_t>> by_first_;
  mutable NormalizedText normalized_;  // Reused buffers.
};

}  // namespace index_internal

using index_internal::BigramKey;
using index_internal::CodePointStarts;
using index_internal::Field;
using index_internal::Highlighter;
using index_internal::IsInactive;
using index_internal::IsWordKind;
using index_internal::kBody;
using index_internal::KeyOf;
using index_internal::kFieldCount;
using index_internal::kHeading;
using index_internal::kQuestion;
using index_internal::kTags;
using index_internal::kTitle;
using index_internal::PathHasPrefix;
using index_internal::Posting;
using index_internal::Saturate;
using index_internal::UnigramKey;

struct SearchIndex::Impl {
  // What the index keeps of an entry: its metadata and passage texts, not the analysis.
  struct StoredDocument {
    DocumentInput meta;
    std::vector<PassageText> passages;
  };
  struct DocInfo {
    std::shared_ptr<const StoredDocument> doc;
    std::string id;
    bool alive = true;
    std::vector<uint32_t> passages;
    // Passage by label (the first of a label), for agents' judgements, which name clauses by
    // label: a law of a thousand articles is not scanned once per vote. Views into `doc`.
    absl::flat_hash_map<std::string_view, uint32_t> passage_by_label;
  };
  struct PassageInfo {
    uint32_t doc;
    uint32_t ordinal;
    std::array<uint16_t, kFieldCount> lengths;
    std::vector<uint32_t> words;  // Term ids of the body words.
  };
  // What scoring and the default filter read of an entry, for every candidate passage.
  struct DocScoring {
    uint16_t title_length = 0;
    v1::EntryStatus status = v1::ENTRY_STATUS_UNSPECIFIED;
    v1::PolicyLevel level = v1::POLICY_LEVEL_UNSPECIFIED;
    bool source_inactive = false;
    // Returned by a search without a status filter: in force (or not yet effective), and for
    // a Q&A pair, its source too.
    bool active = false;
  };

  mutable absl::Mutex mu;
  absl::flat_hash_map<std::string, uint32_t> term_ids ABSL_GUARDED_BY(mu);
  std::vector<std::vector<Posting>> postings ABSL_GUARDED_BY(mu);
  std::vector<DocInfo> docs ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<std::string, uint32_t> doc_by_id ABSL_GUARDED_BY(mu);
  std::vector<PassageInfo> passages ABSL_GUARDED_BY(mu);
  // The entry of each passage, as in PassageInfo: a query touches thousands of passages in no
  // particular order, so this array (not PassageInfo, twelve times larger) is what the filter
  // reads and what has to stay in the CPU caches. Whether a passage is alive is one bit.
  std::vector<uint32_t> passage_doc ABSL_GUARDED_BY(mu);
  std::vector<uint64_t> passage_dead ABSL_GUARDED_BY(mu);  // A bit per passage: removed.
  // Removed, or of an entry that a search without a status filter does not return (amended,
  // repealed, expired, or a Q&A pair whose source is): such a search skips these postings.
  std::vector<uint64_t> passage_hidden ABSL_GUARDED_BY(mu);
  std::vector<DocScoring> doc_scoring ABSL_GUARDED_BY(mu);
  std::array<double, kFieldCount> length_sums ABSL_GUARDED_BY(mu) = {};
  int64_t live_passages ABSL_GUARDED_BY(mu) = 0;
  int64_t live_docs ABSL_GUARDED_BY(mu) = 0;
  // Everyday word -> official terms it stands for.
  absl::flat_hash_map<std::string, std::vector<std::string>> synonyms;

  uint32_t TermId(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto [it, inserted] = term_ids.emplace(key, static_cast<uint32_t>(postings.size()));
    if (inserted) postings.emplace_back();
    return it->second;
  }

  void RemoveLocked(uint32_t d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    DocInfo& doc = docs[d];
    if (!doc.alive) return;
    doc.alive = false;
    --live_docs;
    for (uint32_t p : doc.passages) {
      passage_dead[p / 64] |= uint64_t{1} << (p % 64);
      passage_hidden[p / 64] |= uint64_t{1} << (p % 64);
      --live_passages;
      for (int f = 0; f < kFieldCount; ++f) length_sums[f] -= passages[p].lengths[f];
      passages[p].words.clear();
      passages[p].words.shrink_to_fit();
    }
    doc_by_id.erase(doc.id);
    doc.passage_by_label = {};
    doc.doc.reset();
  }

  void InsertLocked(std::shared_ptr<const AnalyzedDocument> a, const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (auto it = doc_by_id.find(id); it != doc_by_id.end()) RemoveLocked(it->second);
    uint32_t d = static_cast<uint32_t>(docs.size());
    auto stored = std::make_shared<StoredDocument>();
    stored->meta = a->meta;
    for (const AnalyzedPassage& ap : a->passages) stored->passages.push_back(ap.text);
    docs.push_back(DocInfo{std::move(stored), id, true, {}, {}});
    DocScoring& scoring = doc_scoring.emplace_back();
    scoring.title_length = Saturate<uint16_t>(a->title_length);
    scoring.status = a->meta.status;
    scoring.level = a->meta.level;
    scoring.source_inactive = a->meta.source_inactive;
    scoring.active = !IsInactive(a->meta.status) && !a->meta.source_inactive;
    doc_by_id[id] = d;
    ++live_docs;
    for (size_t i = 0; i < a->passages.size(); ++i) {
      const AnalyzedPassage& ap = a->passages[i];
      uint32_t p = static_cast<uint32_t>(passages.size());
      PassageInfo info{d, static_cast<uint32_t>(i), {}, {}};
      info.lengths[kBody] = Saturate<uint16_t>(ap.body_length);
      info.lengths[kTitle] = Saturate<uint16_t>(a->title_length);
      info.lengths[kHeading] = Saturate<uint16_t>(ap.heading_length);
      info.lengths[kQuestion] = Saturate<uint16_t>(a->question_length);
      info.lengths[kTags] = Saturate<uint16_t>(a->tags_length);
      for (int f = 0; f < kFieldCount; ++f) length_sums[f] += info.lengths[f];
      info.words.reserve(ap.words.size());
      for (const std::string& w : ap.words) info.words.push_back(TermId(w));
      // One posting per term of the passage, merging the entry-wide fields in.
      absl::flat_hash_map<uint32_t, Posting> merged;
      for (const auto& [key, tf] : ap.terms) {
        Posting& post = merged[TermId(key)];
        post.body = Saturate<uint16_t>(tf[0]);
        post.heading = Saturate<uint8_t>(tf[1]);
      }
      for (const auto& [key, tf] : a->doc_terms) {
        Posting& post = merged[TermId(key)];
        post.title = Saturate<uint8_t>(tf[0]);
        post.question = Saturate<uint8_t>(tf[1]);
        post.tags = Saturate<uint8_t>(tf[2]);
      }
      for (auto& [term, post] : merged) {
        post.passage = p;
        post.body_length = info.lengths[kBody];
        postings[term].push_back(post);
      }
      passages.push_back(std::move(info));
      passage_doc.push_back(d);
      if (passage_dead.size() * 64 < passage_doc.size()) {
        passage_dead.push_back(0);
        passage_hidden.push_back(0);
      }
      if (!scoring.active) passage_hidden[p / 64] |= uint64_t{1} << (p % 64);
      docs[d].passages.push_back(p);
      docs[d].passage_by_label.emplace(docs[d].doc->passages[i].label, p);
      ++live_passages;
    }
  }
};

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_ENGINE_INTERNAL_INDEX_IMPL_H_
