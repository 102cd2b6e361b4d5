#include "services/kb/text/segmenter.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "glog/logging.h"

namespace hotline::kb {
namespace {

// What a normalized character can be part of.
enum CharClass : uint8_t {
  kSeparator = 0,  // whitespace, punctuation, symbols: never inside a token
  kCjk,            // a Han character: a segmentation unit of its own
  kAlnum,          // a letter, digit or mark of any other script: forms runs
  kConnector,      // '.', '-', '_', '&', '+', '#': inside a letter/digit run, else a separator
};

bool IsCjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) ||    // CJK Unified Ideographs
         (c >= 0x3400 && c <= 0x4DBF) ||    // Extension A
         (c >= 0x20000 && c <= 0x323AF) ||  // Extensions B-H and compatibility supplement
         (c >= 0xF900 && c <= 0xFAFF) ||    // compatibility ideographs NFKC keeps (e.g. U+FA0E)
         c == 0x3007;                       // 〇, the ideographic zero of 二〇二三年
}

CharClass Classify(char32_t c) {
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) return kAlnum;
    switch (c) {
      case '.':
      case '-':
      case '_':
      case '&':
      case '+':
      case '#':
        return kConnector;
      default:
        return kSeparator;
    }
  }
  if (IsCjk(c)) return kCjk;
  const auto u = static_cast<UChar32>(c);
  if (u_isalnum(u) || (U_GET_GC_MASK(u) & U_GC_M_MASK) != 0) return kAlnum;
  return kSeparator;
}

// The end of the letter/digit run starting at `begin`. Connectors join the run when a letter or
// digit follows them ("3.5", "covid-19", "at&t"); a trailing "+", "++" or "#" stays on it too,
// because "c++" and "c#" are names (jieba's dictionary lists them).
int32_t AlnumRunEnd(std::u32string_view text, const std::vector<uint8_t>& classes, int32_t begin) {
  const auto n = static_cast<int32_t>(text.size());
  int32_t end = begin;
  for (;;) {
    while (end < n && classes[end] == kAlnum) ++end;
    if (end + 1 < n && classes[end] == kConnector && classes[end + 1] == kAlnum) {
      ++end;
      continue;
    }
    break;
  }
  if (end < n && (text[end] == '+' || text[end] == '#')) {
    const char32_t symbol = text[end];
    int32_t k = end;
    while (k < n && text[k] == symbol && k - end < 2) ++k;
    if (k >= n || classes[k] != kAlnum) end = k;
  }
  return end;
}

// How much more probable than its best split into other words a word of our dictionaries listed
// without a frequency is made. jieba's suggest_freq uses odds of 1, so such a word wins when it
// stands alone but can lose to a neighbour that borrows one of its characters; the main
// dictionary's highest frequency (the other obvious choice) is so strong that the word steals
// characters from its neighbours instead (赔偿金/额 for 赔偿/金额, 试用期/间 for 试用/期间: 311
// such splits in the first 400 laws of the corpus; with odds of 20 the changes left are mostly
// improvements such as 食品/安全意识 -> 食品安全/意识).
constexpr double kMissingFrequencyOdds = 20;

// A dictionary word being merged from several lines and files.
struct Entry {
  int64_t freq = 0;
  // The line's word was already in normal form: its frequency beats a variant that only became
  // this word by normalization (a traditional or upper-case spelling).
  bool exact = false;
};

// Whether every character of a normalized word can be inside a token; a word with punctuation or
// spaces could never be matched, since those characters end a run.
bool Tokenizable(const std::vector<char32_t>& word) {
  if (word.empty()) return false;
  for (char32_t c : word) {
    if (Classify(c) == kSeparator) return false;
  }
  return true;
}

// The log-probability of the most probable split of `word` into smaller dictionary words, as
// jieba's route scores it (an unknown single character has frequency 1); -inf for one character.
double BestSplitLogProbability(const std::u32string& word,
                               const absl::flat_hash_map<std::u32string, Entry>& entries,
                               double log_total) {
  const size_t n = word.size();
  std::vector<double> best(n + 1, -std::numeric_limits<double>::infinity());
  best[n] = 0;
  for (size_t i = n; i-- > 0;) {
    for (size_t j = i + 1; j <= n; ++j) {
      if (i == 0 && j == n) continue;  // the word itself
      double log_freq = 0;             // an unknown single character
      auto it = entries.find(word.substr(i, j - i));
      if (it != entries.end() && it->second.freq > 0) {
        log_freq = std::log(static_cast<double>(it->second.freq));
      } else if (j > i + 1) {
        continue;
      }
      best[i] = std::max(best[i], (log_freq - log_total) + best[j]);
    }
  }
  return best[0];
}

// Reads one dictionary file into `entries`. `main` selects jieba's format (frequency required,
// exact entries win over folded variants, the total and maximum frequency are accumulated) over
// ours (frequency optional, every entry replaces what was there).
absl::Status LoadDictionary(const std::string& path, bool main, const Normalizer& normalizer,
                            absl::flat_hash_map<std::u32string, Entry>* entries, int64_t* total,
                            int64_t* max_freq) {
  ASSIGN_OR_RETURN(std::string contents, ReadFileToString(path, "dictionary"));
  absl::string_view rest = contents;
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);  // a byte-order mark
  int line_number = 0;
  size_t skipped = 0;
  NormalizedText normalized;
  std::vector<std::u32string> pending;  // our words without a frequency, weighed at the end
  for (absl::string_view line : absl::StrSplit(rest, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || (!main && line[0] == '#')) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const absl::string_view word = fields[0];
    int64_t freq = -1;  // not given
    if (fields.size() > 1 && !absl::SimpleAtoi(fields[1], &freq)) {
      // jieba's user dictionaries allow `word pos` with no frequency; its main one does not.
      if (main || !absl::ascii_isalpha(static_cast<unsigned char>(fields[1][0]))) {
        return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": frequency '",
                                                       fields[1], "' is not a whole number"));
      }
      freq = -1;  // SimpleAtoi may have written to it
    }
    if (freq < -1 || (main && freq < 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number,
                       main ? ": missing or negative frequency" : ": negative frequency"));
    }
    if (absl::Status status = normalizer.Normalize(word, &normalized); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": word: ", status.message()));
    }
    if (main) {
      *total += freq;  // every line counts towards jieba's total, skipped or not
      *max_freq = std::max(*max_freq, freq);
    }
    if (!Tokenizable(normalized.text)) {
      ++skipped;
      continue;
    }
    std::u32string key(normalized.text.begin(), normalized.text.end());
    const bool exact = normalized.Utf8(0, static_cast<int32_t>(key.size())) == word;
    if (!main) {
      if (freq < 0) {
        pending.push_back(std::move(key));
      } else {
        (*entries)[std::move(key)] = Entry{freq, true};
      }
      continue;
    }
    auto [it, inserted] = entries->try_emplace(std::move(key), Entry{freq, exact});
    if (inserted) continue;
    Entry& entry = it->second;
    if (exact && !entry.exact) {
      entry = Entry{freq, true};
    } else if (exact == entry.exact) {
      // Two exact lines: the later wins, as in jieba. Two folded variants: the more frequent.
      entry.freq = exact ? freq : std::max(entry.freq, freq);
    }
  }
  // Shorter words first, so that a long term is weighed against its split into the shorter
  // domain terms inside it, with their final frequencies.
  std::stable_sort(
      pending.begin(), pending.end(),
      [](const std::u32string& a, const std::u32string& b) { return a.size() < b.size(); });
  const double log_total = std::log(static_cast<double>(*total));
  for (std::u32string& word : pending) {
    const double wanted = std::exp(BestSplitLogProbability(word, *entries, log_total) + log_total +
                                   std::log(kMissingFrequencyOdds));
    Entry& entry = (*entries)[std::move(word)];
    const auto suggested = static_cast<int64_t>(std::min(std::ceil(wanted), double(*max_freq)));
    entry = Entry{std::max({entry.freq, suggested, int64_t{1}}), true};
  }
  VLOG(1) << "dictionary " << path << ": " << line_number << " lines, " << skipped
          << " words with untokenizable characters skipped";
  return absl::OkStatus();
}

// A trie under construction. Words arrive sorted, so the child a word needs at each level is
// either the last one added or a new one: no searching while building.
struct BuildNode {
  std::vector<std::pair<char32_t, uint32_t>> children;
  int64_t freq = 0;
};

}  // namespace

absl::string_view TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kWord:
      return "word";
    case TokenKind::kSubWord:
      return "subword";
    case TokenKind::kBigram:
      return "bigram";
    case TokenKind::kUnigram:
      return "unigram";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<Segmenter>> Segmenter::Create(const SegmenterOptions& options,
                                                             const Normalizer& normalizer) {
  std::unique_ptr<Segmenter> segmenter(new Segmenter());
  RETURN_IF_ERROR(segmenter->Load(options, normalizer));
  return segmenter;
}

absl::Status Segmenter::Load(const SegmenterOptions& options, const Normalizer& normalizer) {
  if (options.main_dict_path.empty()) {
    return absl::InvalidArgumentError("main_dict_path is empty: jieba's dict.txt is needed");
  }
  absl::flat_hash_map<std::u32string, Entry> entries;
  entries.reserve(400000);
  int64_t max_freq = 0;
  RETURN_IF_ERROR(LoadDictionary(options.main_dict_path, /*main=*/true, normalizer, &entries,
                                 &total_, &max_freq));
  if (total_ <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("dictionary '", options.main_dict_path,
                                                   "' has no words with a positive frequency"));
  }
  for (const std::string& path : options.extra_dict_paths) {
    RETURN_IF_ERROR(LoadDictionary(path, /*main=*/false, normalizer, &entries, &total_, &max_freq));
  }
  log_total_ = std::log(static_cast<double>(total_));

  std::vector<std::pair<std::u32string, int64_t>> words;
  words.reserve(entries.size());
  for (auto& [word, entry] : entries) {
    if (entry.freq > 0) words.emplace_back(word, entry.freq);
  }
  entries.clear();
  std::sort(words.begin(), words.end());
  word_count_ = words.size();

  std::vector<BuildNode> nodes(1);
  for (const auto& [word, freq] : words) {
    uint32_t current = 0;
    for (char32_t c : word) {
      const auto& children = nodes[current].children;
      if (!children.empty() && children.back().first == c) {
        current = children.back().second;
        continue;
      }
      const auto id = static_cast<uint32_t>(nodes.size());
      nodes[current].children.emplace_back(c, id);
      nodes.emplace_back();
      current = id;
    }
    nodes[current].freq = freq;
  }

  // Lay the trie out breadth-first so that each node's children are adjacent and sorted.
  const size_t count = nodes.size();
  label_.assign(count, 0);
  first_child_.assign(count, 0);
  child_count_.assign(count, 0);
  freq_.assign(count, 0);
  log_freq_.assign(count, 0);
  std::vector<uint32_t> order;  // order[new id] = build id
  order.reserve(count);
  order.push_back(0);
  for (size_t id = 0; id < order.size(); ++id) {
    const BuildNode& node = nodes[order[id]];
    first_child_[id] = static_cast<uint32_t>(order.size());
    child_count_[id] = static_cast<uint32_t>(node.children.size());
    for (const auto& [c, child] : node.children) {
      label_[order.size()] = c;
      order.push_back(child);
    }
    freq_[id] = node.freq;
    if (node.freq > 0) log_freq_[id] = std::log(static_cast<double>(node.freq));
  }
  root_bmp_.assign(0x10000, 0);
  for (uint32_t k = 0; k < child_count_[0]; ++k) {
    const uint32_t child = first_child_[0] + k;
    if (label_[child] < 0x10000) root_bmp_[label_[child]] = child;
  }
  VLOG(1) << "segmenter: " << word_count_ << " words, " << count << " trie nodes, total " << total_;
  return absl::OkStatus();
}

uint32_t Segmenter::Child(uint32_t node, char32_t c) const {
  if (node == 0 && c < 0x10000) return root_bmp_[c];
  const uint32_t first = first_child_[node];
  const char32_t* begin = label_.data() + first;
  const char32_t* end = begin + child_count_[node];
  const char32_t* it = std::lower_bound(begin, end, c);
  return it != end && *it == c ? first + static_cast<uint32_t>(it - begin) : 0;
}

bool Segmenter::IsWord(const char32_t* begin, const char32_t* end) const {
  uint32_t node = 0;
  for (const char32_t* p = begin; p != end; ++p) {
    node = Child(node, *p);
    if (node == 0) return false;
  }
  return freq_[node] > 0;
}

int64_t Segmenter::Frequency(std::u32string_view word) const {
  if (word.empty()) return 0;
  uint32_t node = 0;
  for (char32_t c : word) {
    node = Child(node, c);
    if (node == 0) return 0;
  }
  return freq_[node];
}

int32_t Segmenter::Segment(std::u32string_view text, const SegmentOptions& options,
                           std::vector<Piece>* out) const {
  const auto n = static_cast<int32_t>(text.size());
  std::vector<uint8_t> classes(n);
  for (int32_t i = 0; i < n; ++i) classes[i] = Classify(text[i]);
  // A run is split into units: a CJK character, or a whole letter/digit run. unit_end[i] is the
  // end of the unit starting at i, 0 where no unit starts. Dictionary words may only start and end
  // at unit boundaries, so "ok" is never found inside "book" but "b超" and "卡拉ok" are words.
  std::vector<int32_t> unit_end(n, 0);
  int32_t position = 0;
  for (int32_t i = 0; i < n;) {
    if (classes[i] != kCjk && classes[i] != kAlnum) {
      ++i;
      continue;
    }
    const int32_t begin = i;
    while (i < n) {
      if (classes[i] == kCjk) {
        unit_end[i] = i + 1;
      } else if (classes[i] == kAlnum) {
        unit_end[i] = AlnumRunEnd(text, classes, i);
      } else {
        break;
      }
      i = unit_end[i];
    }
    SegmentRun(text, classes, unit_end, begin, i, options, &position, out);
  }
  return position;
}

void Segmenter::SegmentRun(std::u32string_view text, const std::vector<uint8_t>& classes,
                           const std::vector<int32_t>& unit_end, int32_t begin, int32_t end,
                           const SegmentOptions& options, int32_t* position,
                           std::vector<Piece>* out) const {
  // jieba's calc(), with the DAG walked on the fly instead of stored. route_score[k] is the best
  // log-probability of text[begin + k, end); route_next[k] where its first word ends.
  const int32_t length = end - begin;
  std::vector<double> route_score(length + 1, 0.0);
  std::vector<int32_t> route_next(length + 1, end);
  for (int32_t i = end - 1; i >= begin; --i) {
    if (unit_end[i] == 0) continue;
    double best = -std::numeric_limits<double>::infinity();
    int32_t best_end = -1;
    uint32_t node = 0;
    for (int32_t j = i; j < end; ++j) {
      node = Child(node, text[j]);
      if (node == 0) break;
      if (freq_[node] > 0 && (j + 1 == end || unit_end[j + 1] != 0)) {
        // Same operation order as jieba's Python, so equal paths tie exactly as there; `>=`
        // because the candidates come in increasing end and jieba prefers the larger one.
        const double score = (log_freq_[node] - log_total_) + route_score[j + 1 - begin];
        if (score >= best) {
          best = score;
          best_end = j + 1;
        }
      }
    }
    if (best_end < 0) {
      // No dictionary word starts here: the unit alone, with jieba's frequency 1 per character.
      best_end = unit_end[i];
      best = (0.0 - log_total_) * (best_end - i) + route_score[best_end - begin];
    }
    route_score[i - begin] = best;
    route_next[i - begin] = best_end;
  }

  for (int32_t x = begin; x < end;) {
    const int32_t y = route_next[x - begin];
    const int32_t word_position = (*position)++;
    const bool lone_cjk = y - x == 1 && classes[x] == kCjk;
    out->push_back({x, y, lone_cjk ? TokenKind::kUnigram : TokenKind::kWord, word_position});
    if (options.sub_words && y - x > 2 &&
        std::all_of(classes.begin() + x, classes.begin() + y,
                    [](uint8_t c) { return c == kCjk; })) {
      const char32_t* chars = text.data();
      for (int32_t k = x; k + 2 <= y; ++k) {
        if (IsWord(chars + k, chars + k + 2)) {
          out->push_back({k, k + 2, TokenKind::kSubWord, word_position});
        }
      }
      if (y - x > 3) {
        for (int32_t k = x; k + 3 <= y; ++k) {
          if (IsWord(chars + k, chars + k + 3)) {
            out->push_back({k, k + 3, TokenKind::kSubWord, word_position});
          }
        }
      }
    }
    if (options.bigrams) {
      for (int32_t k = x; k < y && k + 1 < end; ++k) {
        if (classes[k] == kCjk && classes[k + 1] == kCjk) {
          out->push_back({k, k + 2, TokenKind::kBigram, word_position});
        }
      }
    }
    x = y;
  }
}

}  // namespace hotline::kb
