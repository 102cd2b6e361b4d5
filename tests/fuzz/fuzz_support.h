// What the fuzz targets share: reading structured choices out of the fuzzer's bytes, a check
// that reports and aborts (so libFuzzer keeps the input), an independent strict UTF-8 decoder
// to compare the project's own against, and the paths of the data files the targets load.
#ifndef HOTLINE_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define HOTLINE_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace hotline::fuzz {

// Set by CMake: the source tree and the data shared with the tests (holiday calendar).
inline std::string SourcePath(absl::string_view relative) {
  return std::string(HOTLINE_SOURCE_DIR) + "/" + std::string(relative);
}
inline std::string SharedDataPath(absl::string_view relative) {
  return std::string(HOTLINE_SHARED_DATA_DIR) + "/" + std::string(relative);
}

// Prints the failed condition and the streamed details, then aborts: libFuzzer saves the input
// as a crash, which is what a broken invariant is.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition) {
    stream_ << file << ":" << line << ": check failed: " << condition << "\n  ";
  }
  [[noreturn]] ~CheckFailure() {
    std::string text = stream_.str();
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fflush(stderr);
    std::abort();
  }
  std::ostringstream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

#define FUZZ_CHECK(condition) \
  while (!(condition)) ::hotline::fuzz::CheckFailure(__FILE__, __LINE__, #condition).stream()

// Fatal set-up failure (missing dictionary, unreadable configuration): not a finding, so it
// says so plainly instead of looking like a crash of the code under test.
[[noreturn]] inline void SetupFailed(const std::string& what) {
  std::fprintf(stderr, "fuzz target set-up failed: %s\n", what.c_str());
  std::exit(2);
}

// Hands out the fuzzer's bytes as small decisions; past the end everything reads as zero, so
// a short input is still a complete (if dull) scenario.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return offset_ >= size_; }
  size_t remaining() const { return empty() ? 0 : size_ - offset_; }

  uint8_t Byte() { return empty() ? 0 : data_[offset_++]; }
  bool Bit() { return (Byte() & 1) != 0; }
  // A value in [0, bound) (bound > 0), from one byte or two.
  uint32_t Below(uint32_t bound) {
    uint32_t v = Byte();
    if (bound > 256) v = (v << 8) | Byte();
    return v % bound;
  }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | Byte();
    return v;
  }
  uint64_t U64() { return (static_cast<uint64_t>(U32()) << 32) | U32(); }
  template <typename T>
  const T& Pick(const std::vector<T>& options) {
    return options[Below(static_cast<uint32_t>(options.size()))];
  }
  // A length byte, then up to that many bytes.
  std::string Chunk(size_t max = 255) {
    size_t n = Byte();
    if (n > max) n = max;
    return Take(n);
  }
  std::string Take(size_t n) {
    if (n > remaining()) n = remaining();
    std::string out(reinterpret_cast<const char*>(data_ + offset_), n);
    offset_ += n;
    return out;
  }
  std::string Rest() { return Take(remaining()); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
};

// Strict UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates, nothing above
// U+10FFFF), written here rather than reused so that the project's decoders have something
// independent to agree with.
inline bool DecodeUtf8Strict(absl::string_view s, std::vector<char32_t>* out = nullptr) {
  if (out != nullptr) out->clear();
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    char32_t c;
    size_t n;
    if (b0 < 0x80) {
      c = b0;
      n = 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      c = b0 & 0x1F;
      n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      c = b0 & 0x0F;
      n = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      c = b0 & 0x07;
      n = 4;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      c = (c << 6) | (b & 0x3F);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF)) {
      return false;
    }
    if (out != nullptr) out->push_back(c);
    i += n;
  }
  return true;
}

inline bool IsValidUtf8(absl::string_view s) { return DecodeUtf8Strict(s, nullptr); }

// Code points of valid UTF-8.
inline size_t CodePoints(absl::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Keeps the valid UTF-8 of `s` and drops the rest, for fields that only ever arrive valid
// (proto3 strings through gRPC).
inline std::string ValidUtf8Only(absl::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t n = 1;
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 >= 0xF0) {
      n = 4;
    } else if (b0 >= 0xE0) {
      n = 3;
    } else if (b0 >= 0xC0) {
      n = 2;
    }
    if (i + n <= s.size() && IsValidUtf8(s.substr(i, n))) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      ++i;
    }
  }
  return out;
}

}  // namespace hotline::fuzz

#endif  // HOTLINE_TESTS_FUZZ_FUZZ_SUPPORT_H_
