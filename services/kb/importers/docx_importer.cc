#include "services/kb/importers/docx_importer.h"

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/utf8.h"
#include "services/kb/importers/pages.h"
#include "services/kb/ingest/cleaner.h"
#include "services/kb/ingest/metadata.h"

namespace hotline::kb::importers {
namespace {

constexpr char kDocumentPart[] = "word/document.xml";

// ---- The ZIP container (APPNOTE.TXT): the central directory says where each part is. ----

uint32_t Read16(absl::string_view bytes, size_t at) {
  return static_cast<uint8_t>(bytes[at]) | static_cast<uint8_t>(bytes[at + 1]) << 8;
}
uint32_t Read32(absl::string_view bytes, size_t at) {
  return Read16(bytes, at) | Read16(bytes, at + 2) << 16;
}

struct Part {
  uint32_t method = 0;  // 0 stored, 8 deflated.
  uint32_t flags = 0;
  uint32_t crc = 0;
  uint32_t compressed_size = 0;
  uint32_t size = 0;
  uint32_t local_header = 0;
};

absl::Status NotAWordDocument(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("docx: not a Word document (", why, ")"));
}

// The central directory's record of the part named `name`, or nullopt when there is none.
absl::StatusOr<std::optional<Part>> FindPart(absl::string_view zip, absl::string_view name) {
  constexpr size_t kEndRecord = 22;  // The end-of-central-directory record, without comment.
  if (zip.size() < kEndRecord) return NotAWordDocument("too short for a ZIP archive");
  // The end record is the last thing in the file, before a comment of at most 65,535 bytes.
  size_t end = absl::string_view::npos;
  size_t lowest = zip.size() > kEndRecord + 0xFFFF ? zip.size() - kEndRecord - 0xFFFF : 0;
  for (size_t at = zip.size() - kEndRecord + 1; at-- > lowest;) {
    if (Read32(zip, at) == 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end == absl::string_view::npos) return NotAWordDocument("no ZIP directory");
  const uint32_t entries = Read16(zip, end + 10);
  const uint32_t directory_size = Read32(zip, end + 12);
  const uint32_t directory = Read32(zip, end + 16);
  if (directory_size == 0xFFFFFFFF || directory == 0xFFFFFFFF) {
    return NotAWordDocument("a ZIP64 archive");
  }
  if (static_cast<uint64_t>(directory) + directory_size > end) {
    return NotAWordDocument("the ZIP directory lies outside the file");
  }
  size_t at = directory;
  for (uint32_t i = 0; i < entries; ++i) {
    constexpr size_t kFixed = 46;
    if (at + kFixed > end || Read32(zip, at) != 0x02014b50) {
      return NotAWordDocument("a damaged ZIP directory");
    }
    const size_t name_length = Read16(zip, at + 28);
    const size_t extra_length = Read16(zip, at + 30);
    const size_t comment_length = Read16(zip, at + 32);
    if (at + kFixed + name_length > end) return NotAWordDocument("a damaged ZIP directory");
    if (zip.substr(at + kFixed, name_length) == name) {
      Part part;
      part.flags = Read16(zip, at + 8);
      part.method = Read16(zip, at + 10);
      part.crc = Read32(zip, at + 16);
      part.compressed_size = Read32(zip, at + 20);
      part.size = Read32(zip, at + 24);
      part.local_header = Read32(zip, at + 42);
      return std::optional<Part>(part);
    }
    at += kFixed + name_length + extra_length + comment_length;
  }
  return std::optional<Part>();
}

// The part's bytes, unpacked and checked against its CRC.
absl::StatusOr<std::string> ReadPart(absl::string_view zip, const Part& part) {
  if (part.flags & 1) {
    return absl::InvalidArgumentError("docx: password-protected (save it without a password)");
  }
  if (part.size > kMaxDocumentXmlBytes) {
    return absl::InvalidArgumentError(absl::StrCat("docx: ", kDocumentPart, " unpacks to ",
                                                   part.size, " bytes, more than the ",
                                                   kMaxDocumentXmlBytes, " a document may have"));
  }
  const size_t header = part.local_header;
  constexpr size_t kFixed = 30;
  if (header + kFixed > zip.size() || Read32(zip, header) != 0x04034b50) {
    return NotAWordDocument("a damaged ZIP entry");
  }
  const size_t data = header + kFixed + Read16(zip, header + 26) + Read16(zip, header + 28);
  if (data > zip.size() || zip.size() - data < part.compressed_size) {
    return NotAWordDocument("a ZIP entry runs past the end of the file");
  }
  absl::string_view packed = zip.substr(data, part.compressed_size);
  std::string out;
  if (part.method == 0) {
    out.assign(packed.data(), packed.size());
  } else if (part.method == 8) {
    out.resize(part.size);
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return absl::InternalError("docx: inflateInit2");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
    z.avail_in = static_cast<uInt>(packed.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    // The output buffer is the size the directory states; a stream that wants more is damaged.
    const int result = inflate(&z, Z_FINISH);
    const size_t produced = out.size() - z.avail_out;
    inflateEnd(&z);
    if (result != Z_STREAM_END || produced != part.size) {
      return absl::InvalidArgumentError(
          absl::StrCat("docx: ", kDocumentPart, " is damaged (it does not unpack)"));
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("docx: ", kDocumentPart,
                                                   " is packed with method ", part.method,
                                                   " (only stored and deflated parts are read)"));
  }
  if (out.size() != part.size || crc32(0, reinterpret_cast<const Bytef*>(out.data()),
                                       static_cast<uInt>(out.size())) != part.crc) {
    return absl::InvalidArgumentError(
        absl::StrCat("docx: ", kDocumentPart, " is damaged (its checksum does not match)"));
  }
  return out;
}

// ---- The body's text. ----

// A tag's name without its namespace prefix ("w:p" gives "p").
absl::string_view LocalName(absl::string_view tag) {
  size_t end = tag.find_first_of(" \t\r\n/>");
  absl::string_view name = tag.substr(0, end);
  size_t colon = name.find(':');
  return colon == absl::string_view::npos ? name : name.substr(colon + 1);
}

// Whether `line` is a masthead, a 文号 or a date alone: lines above a notice's title.
bool AboveTheTitle(absl::string_view line) {
  if (absl::EndsWith(line, "文件")) return true;
  if (ingest::ParseDocNumber(line).has_value()) return true;
  std::vector<ingest::DateMatch> dates = ingest::FindDates(line);
  return !dates.empty() && CodePointCount(line) <= 12;
}

}  // namespace

std::string DocumentXmlText(absl::string_view xml) {
  std::vector<std::string> lines;
  std::string line;
  bool in_text = false;  // Inside <w:t>: its characters are the document's.
  int in_tab_stops = 0;  // Inside <w:tabs>, where <w:tab/> defines a stop, not a character.
  int in_fallback = 0;   // Inside <mc:Fallback>: a second copy of a text box, for old readers.
  auto flush = [&] {
    std::string text = ingest::DecodeHtmlEntities(absl::StripAsciiWhitespace(line));
    if (!absl::StripAsciiWhitespace(text).empty()) lines.push_back(std::move(text));
    line.clear();
  };
  size_t at = 0;
  while (at < xml.size()) {
    size_t open = xml.find('<', at);
    if (open == absl::string_view::npos) break;
    if (in_text && in_fallback == 0) absl::StrAppend(&line, xml.substr(at, open - at));
    size_t close = xml.find('>', open);
    if (close == absl::string_view::npos) break;
    absl::string_view tag = xml.substr(open + 1, close - open - 1);
    at = close + 1;
    if (tag.empty() || tag[0] == '?' || tag[0] == '!') continue;
    const bool closing = tag[0] == '/';
    const bool empty_element = tag.back() == '/';
    absl::string_view name = LocalName(closing ? tag.substr(1) : tag);
    if (name == "Fallback") {
      if (closing) {
        --in_fallback;
      } else if (!empty_element) {
        ++in_fallback;
      }
      continue;
    }
    if (in_fallback > 0) continue;
    if (name == "t") {
      in_text = !closing && !empty_element;
    } else if (name == "tabs") {
      if (closing) {
        --in_tab_stops;
      } else if (!empty_element) {
        ++in_tab_stops;
      }
    } else if (name == "tab" && !closing && in_tab_stops == 0) {
      line.push_back('\t');
    } else if ((name == "br" || name == "cr") && !closing) {
      flush();
    } else if (name == "p" && (closing || empty_element)) {
      flush();
    }
  }
  return absl::StrJoin(lines, "\n");
}

absl::StatusOr<v1::ImportItem> DocxToItem(absl::string_view file, const std::string& source_id) {
  // Word leaves "~$name.docx" beside a document it has open: the owner's name, not a document.
  if (absl::StartsWith(source_id, "~$") || absl::StrContains(source_id, "/~$")) {
    return absl::InvalidArgumentError(
        "docx: a Word lock file, not a document (close the document in Word, or delete the file)");
  }
  absl::StatusOr<std::optional<Part>> part = FindPart(file, kDocumentPart);
  if (!part.ok()) return part.status();
  if (!part->has_value()) return NotAWordDocument(absl::StrCat("it has no ", kDocumentPart));
  absl::StatusOr<std::string> xml = ReadPart(file, **part);
  if (!xml.ok()) return xml.status();
  if (!IsValidUtf8(*xml)) {
    return absl::InvalidArgumentError(absl::StrCat("docx: ", kDocumentPart, " is not UTF-8"));
  }
  std::string text = DocumentXmlText(*xml);
  std::string title;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty() && !AboveTheTitle(line)) {
      title = std::string(line);
      break;
    }
  }
  if (title.empty()) return absl::InvalidArgumentError("content: the document has no text");
  ingest::DocumentMetadata found = ingest::ExtractMetadata(title, text);

  v1::ImportItem item;
  item.set_source_id(source_id);
  v1::Entry* e = item.mutable_entry();
  e->set_kind(v1::ENTRY_KIND_POLICY_DOCUMENT);
  e->set_title(title);
  v1::PolicyDocument* p = e->mutable_policy_document();
  p->set_doc_number(found.doc_number);
  for (const std::string& a : found.agencies) p->add_issuing_agencies(a);
  p->set_publish_date(found.publish_date);
  p->set_effective_date(found.effective_date);
  p->set_expiry_date(found.expiry_date);
  item.mutable_content()->set_format(v1::CONTENT_FORMAT_PLAIN_TEXT);
  item.mutable_content()->set_text(std::move(text));
  return item;
}

absl::StatusOr<std::unique_ptr<SourceReader>> OpenDocx(const std::string& file_or_directory) {
  return OpenPages(file_or_directory, {".docx"}, v1::CONTENT_FORMAT_PLAIN_TEXT, DocxToItem);
}

SourceFormat DocxFormat() {
  SourceFormat f;
  f.name = "docx";
  f.extensions = {".docx"};
  f.pages = true;
  f.summary = "Word documents (.docx): one file, or every .docx file under a directory";
  f.open = OpenDocx;
  return f;
}

}  // namespace hotline::kb::importers
