#include "services/kb/kb_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, jieba_dict, "/usr/lib/python3/dist-packages/jieba/dict.txt",
          "jieba's dictionary (Debian package python3-jieba)");
ABSL_FLAG(std::string, domain_dict, "services/kb/text/data/domain_dict.txt",
          "hotline and policy terms that general dictionaries split badly");
ABSL_FLAG(std::string, stopwords, "services/kb/text/data/stopwords.txt",
          "words dropped from queries");
ABSL_FLAG(std::string, synonyms, "services/kb/engine/data/synonyms.txt",
          "everyday word => official terms, one mapping a line");

// Ranking weights; see RankingParams for what each does.
ABSL_FLAG(double, rank_k1, hotline::kb::RankingParams().k1, "BM25 k1");
ABSL_FLAG(double, rank_b_body, hotline::kb::RankingParams().b_body, "BM25 b of the body");
ABSL_FLAG(double, rank_b_title, hotline::kb::RankingParams().b_title, "BM25 b of the title");
ABSL_FLAG(double, rank_weight_title, hotline::kb::RankingParams().weight_title, "title weight");
ABSL_FLAG(double, rank_weight_heading, hotline::kb::RankingParams().weight_heading,
          "heading weight");
ABSL_FLAG(double, rank_subword, hotline::kb::RankingParams().subword, "sub-word query weight");
ABSL_FLAG(double, rank_bigram, hotline::kb::RankingParams().bigram, "bigram query weight");
ABSL_FLAG(double, rank_unigram, hotline::kb::RankingParams().unigram, "unigram query weight");
ABSL_FLAG(double, rank_synonym, hotline::kb::RankingParams().synonym, "synonym query weight");
ABSL_FLAG(double, rank_proximity, hotline::kb::RankingParams().proximity, "proximity bonus");

namespace hotline::kb {

absl::StatusOr<std::shared_ptr<const Analyzer>> CreateAnalyzerFromFlags() {
  AnalyzerOptions options;
  options.jieba_dict_path = absl::GetFlag(FLAGS_jieba_dict);
  options.extra_dict_paths = {absl::GetFlag(FLAGS_domain_dict)};
  options.stopwords_path = absl::GetFlag(FLAGS_stopwords);
  absl::StatusOr<std::unique_ptr<Analyzer>> analyzer = Analyzer::Create(options);
  if (!analyzer.ok()) return analyzer.status();
  return std::shared_ptr<const Analyzer>(std::move(*analyzer));
}

RankingParams RankingParamsFromFlags() {
  RankingParams p;
  p.k1 = absl::GetFlag(FLAGS_rank_k1);
  p.b_body = absl::GetFlag(FLAGS_rank_b_body);
  p.b_title = absl::GetFlag(FLAGS_rank_b_title);
  p.weight_title = absl::GetFlag(FLAGS_rank_weight_title);
  p.weight_heading = absl::GetFlag(FLAGS_rank_weight_heading);
  p.subword = absl::GetFlag(FLAGS_rank_subword);
  p.bigram = absl::GetFlag(FLAGS_rank_bigram);
  p.unigram = absl::GetFlag(FLAGS_rank_unigram);
  p.synonym = absl::GetFlag(FLAGS_rank_synonym);
  p.proximity = absl::GetFlag(FLAGS_rank_proximity);
  return p;
}

bool SetRankingParam(absl::string_view name, double value, RankingParams* p) {
  if (name == "feedback_passages") {
    p->feedback_passages = static_cast<int>(value);
    return true;
  }
  if (name == "rescore_pool") {
    p->rescore_pool = static_cast<size_t>(value);
    return true;
  }
  if (name == "common_postings") {
    p->common_postings = static_cast<size_t>(value);
    return true;
  }
  if (name == "min_candidates") {
    p->min_candidates = static_cast<size_t>(value);
    return true;
  }
  if (name == "rerank_window") {
    p->rerank_window = static_cast<int>(value);
    return true;
  }
  if (name == "feedback_terms") {
    p->feedback_terms = static_cast<int>(value);
    return true;
  }
  const std::pair<absl::string_view, double*> fields[] = {
      {"k1", &p->k1},
      {"b_body", &p->b_body},
      {"b_title", &p->b_title},
      {"weight_body", &p->weight_body},
      {"weight_title", &p->weight_title},
      {"weight_heading", &p->weight_heading},
      {"weight_question", &p->weight_question},
      {"word", &p->word},
      {"subword", &p->subword},
      {"bigram", &p->bigram},
      {"unigram", &p->unigram},
      {"synonym", &p->synonym},
      {"proximity", &p->proximity},
      {"common_fraction", &p->common_fraction},
      {"prior_national_regulation", &p->prior_national_regulation},
      {"prior_local", &p->prior_local},
      {"entry_context", &p->entry_context},
      {"feedback_weight", &p->feedback_weight},
      {"vote_weight", &p->vote_weight},
      {"entry_vote_weight", &p->entry_vote_weight},
      {"entry_vote_power", &p->entry_vote_power},
      {"vote_penalty", &p->vote_penalty},
      {"confirmed_weight", &p->confirmed_weight},
  };
  for (const auto& [field, target] : fields) {
    if (field == name && target != nullptr) {
      *target = value;
      return true;
    }
  }
  return false;
}

absl::Status LoadSynonymsFromFlags(SearchIndex& index) {
  std::string path = absl::GetFlag(FLAGS_synonyms);
  return path.empty() ? absl::OkStatus() : index.LoadSynonyms(path);
}

}  // namespace hotline::kb
