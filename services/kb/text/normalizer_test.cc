#include "services/kb/text/normalizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "glog/logging.h"

namespace hotline::kb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const Normalizer& SharedNormalizer() {
  static const Normalizer* normalizer = [] {
    absl::StatusOr<std::unique_ptr<Normalizer>> created = Normalizer::Create();
    CHECK(created.ok()) << created.status();
    return created->release();
  }();
  return *normalizer;
}

NormalizedText Normalize(absl::string_view text) {
  absl::StatusOr<NormalizedText> normalized = SharedNormalizer().Normalize(text);
  EXPECT_TRUE(normalized.ok()) << normalized.status();
  return normalized.ok() ? *std::move(normalized) : NormalizedText{};
}

std::string AsUtf8(const NormalizedText& t) {
  return t.Utf8(0, static_cast<int32_t>(t.text.size()));
}

TEST(NormalizerTest, FoldsWidthAndCase) {
  NormalizedText t = Normalize("ＡＢＣ２０２３Straße");
  EXPECT_EQ(AsUtf8(t), "abc2023strasse");
  EXPECT_EQ(t.original_length, 13);
  // ß (code point 11) case-folds to "ss": both letters point back at it.
  EXPECT_THAT(t.source_begin, ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11, 12));
  EXPECT_THAT(t.source_end, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 12, 13));
}

TEST(NormalizerTest, ExpansionsPointBackAtTheirSourceCharacter) {
  NormalizedText t = Normalize("㈠ﬁ①");
  EXPECT_EQ(AsUtf8(t), "(一)fi1");
  EXPECT_THAT(t.source_begin, ElementsAre(0, 0, 0, 1, 1, 2));
  EXPECT_THAT(t.source_end, ElementsAre(1, 1, 1, 2, 2, 3));
}

TEST(NormalizerTest, FoldsTraditionalToSimplified) {
  NormalizedText t = Normalize("醫保電腦，請問");
  EXPECT_EQ(AsUtf8(t), "医保电脑,请问");
  EXPECT_THAT(t.source_begin, ElementsAre(0, 1, 2, 3, 4, 5, 6));
}

TEST(NormalizerTest, DropsIgnorablesAndKeepsLaterOffsets) {
  NormalizedText t = Normalize("医\u200B保\u00AD卡");  // zero-width space, soft hyphen
  EXPECT_EQ(AsUtf8(t), "医保卡");
  EXPECT_THAT(t.source_begin, ElementsAre(0, 2, 4));
  EXPECT_EQ(t.original_length, 5);
}

TEST(NormalizerTest, ComposesCombiningSequencesAsAWhole) {
  NormalizedText t = Normalize("Cafe\u0301!");
  EXPECT_EQ(AsUtf8(t), "café!");
  EXPECT_THAT(t.source_begin, ElementsAre(0, 1, 2, 3, 5));
  EXPECT_THAT(t.source_end, ElementsAre(1, 2, 3, 5, 6));
}

TEST(NormalizerTest, KeepsSupplementaryPlaneCharacters) {
  NormalizedText t = Normalize("\U00020000\U0001F600a");
  EXPECT_THAT(t.text, ElementsAre(U'\U00020000', U'\U0001F600', U'a'));
  EXPECT_THAT(t.source_begin, ElementsAre(0, 1, 2));
}

TEST(NormalizerTest, EmptyTextIsEmpty) {
  NormalizedText t = Normalize("");
  EXPECT_TRUE(t.text.empty());
  EXPECT_EQ(t.original_length, 0);
}

TEST(NormalizerTest, RejectsInvalidUtf8WithTheByteOffset) {
  struct Case {
    std::string text;
    std::string offset;
  };
  const std::vector<Case> cases = {
      {"\xFF", "byte offset 0"},
      {"abc\xE5\x8C", "byte offset 3"},       // truncated 3-byte sequence
      {"\xC0\x80", "byte offset 0"},          // overlong NUL
      {"医\xED\xA0\x80", "byte offset 3"},    // UTF-16 surrogate
      {"\xF4\x90\x80\x80", "byte offset 0"},  // above U+10FFFF
      {"ok\x80", "byte offset 2"},            // lone continuation byte
  };
  for (const Case& c : cases) {
    absl::StatusOr<NormalizedText> t = SharedNormalizer().Normalize(c.text);
    ASSERT_FALSE(t.ok()) << c.offset;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(t.status().message(), HasSubstr(c.offset));
  }
}

TEST(NormalizerTest, ConcurrentCallsAgree) {
  const std::string sample = "ＡＢＣ公司２０２３年醫保，iPhone15 ㈠ﬁ Cafe\u0301 \U00020000";
  const std::string expected = AsUtf8(Normalize(sample));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 500; ++i) {
        absl::StatusOr<NormalizedText> t = SharedNormalizer().Normalize(sample);
        if (!t.ok() || AsUtf8(*t) != expected) ++mismatches[k];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

}  // namespace
}  // namespace hotline::kb
