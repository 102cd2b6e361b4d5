#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace hotline {
namespace {

TEST(Utf8Test, AcceptsWhatProto3StringsHold) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ASCII"));
  EXPECT_TRUE(IsValidUtf8("长住金发〔2024〕5号"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));  // U+1F600, four bytes
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
}

TEST(Utf8Test, RefusesEverythingElse) {
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\x80"));                  // a continuation byte alone
  EXPECT_FALSE(IsValidUtf8("\xE4\xB8"));              // 中 cut short
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));              // '/' in two bytes (overlong)
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));          // overlong in three
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));          // a UTF-16 surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));      // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xB0\xEC\xC9\xE7"));      // 办理 in GBK
  EXPECT_FALSE(IsValidUtf8("\xE4\xB8\xAD\xE6\x96"));  // 中 then half of 文
}

}  // namespace
}  // namespace hotline
