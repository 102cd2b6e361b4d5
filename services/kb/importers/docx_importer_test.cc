#include "services/kb/importers/docx_importer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/test_util.h"

namespace hotline::kb::importers {
namespace {

// A notice as a department's office writes it in Word: the masthead, the 文号 and the title in
// runs of their own, articles, a table, a tracked deletion, a field code, a text box (which
// Word stores twice: for new readers and, as a fallback, for old ones), and the signature.
constexpr char kNoticeXml[] = R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
  xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">
<w:body>
<w:p><w:r><w:t>长沙市人民政府办公厅文件</w:t></w:r></w:p>
<w:p><w:r><w:t>长政办发〔2024〕12号</w:t></w:r></w:p>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>长沙市人民政府办公厅关于</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">印发住房公积金提取管理办法的通知</w:t></w:r></w:p>
<w:p/>
<w:p><w:r><w:t>第一条</w:t></w:r><w:r><w:tab/><w:t>为规范住房公积金提取&amp;使用，制定本办法。</w:t></w:r></w:p>
<w:p><w:r><w:t>第二条 缴存职工</w:t></w:r><w:del w:id="1" w:author="王"><w:r><w:delText>不得</w:delText></w:r></w:del><w:r><w:t>每年可以提取一次。</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>提取情形</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>所需材料</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:txbxContent><w:p><w:r><w:t>咨询电话：12345</w:t></w:r></w:p></w:txbxContent></mc:Choice><mc:Fallback><w:txbxContent><w:p><w:r><w:t>咨询电话：12345</w:t></w:r></w:p></w:txbxContent></mc:Fallback></mc:AlternateContent></w:r></w:p>
<w:p><w:r><w:t>第三条 本办法自2024年5月1日起施行。</w:t></w:r></w:p>
<w:p><w:r><w:t>长沙市人民政府办公厅</w:t></w:r></w:p>
<w:p><w:r><w:t>2024年3月5日</w:t></w:r></w:p>
</w:body></w:document>)";

struct ZipPart {
  std::string name;
  std::string data;
  bool deflate = true;
};

void Put16(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v & 0xFF));
  out->push_back(static_cast<char>(v >> 8 & 0xFF));
}
void Put32(std::string* out, uint32_t v) {
  Put16(out, v & 0xFFFF);
  Put16(out, v >> 16);
}

std::string RawDeflate(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

// A ZIP archive as Word writes one, written here so each test can also damage it on purpose.
std::string Zip(const std::vector<ZipPart>& parts, uint32_t flags = 0) {
  std::string out, directory;
  for (const ZipPart& p : parts) {
    std::string packed = p.deflate ? RawDeflate(p.data) : p.data;
    uint32_t crc =
        crc32(0, reinterpret_cast<const Bytef*>(p.data.data()), static_cast<uInt>(p.data.size()));
    uint32_t offset = static_cast<uint32_t>(out.size());
    auto common = [&](std::string* s) {
      Put16(s, 20);  // Version needed.
      Put16(s, flags);
      Put16(s, p.deflate ? 8 : 0);
      Put32(s, 0);  // Time and date.
      Put32(s, crc);
      Put32(s, static_cast<uint32_t>(packed.size()));
      Put32(s, static_cast<uint32_t>(p.data.size()));
      Put16(s, static_cast<uint32_t>(p.name.size()));
      Put16(s, 0);  // Extra field.
    };
    Put32(&out, 0x04034b50);
    common(&out);
    out += p.name + packed;
    Put32(&directory, 0x02014b50);
    Put16(&directory, 20);  // Version made by.
    common(&directory);
    Put16(&directory, 0);  // Comment.
    Put16(&directory, 0);  // Disk.
    Put16(&directory, 0);  // Internal attributes.
    Put32(&directory, 0);  // External attributes.
    Put32(&directory, offset);
    directory += p.name;
  }
  uint32_t directory_offset = static_cast<uint32_t>(out.size());
  out += directory;
  Put32(&out, 0x06054b50);
  Put16(&out, 0);
  Put16(&out, 0);
  Put16(&out, static_cast<uint32_t>(parts.size()));
  Put16(&out, static_cast<uint32_t>(parts.size()));
  Put32(&out, static_cast<uint32_t>(directory.size()));
  Put32(&out, directory_offset);
  Put16(&out, 0);
  return out;
}

std::string Docx(const std::string& document_xml, bool deflate = true) {
  return Zip({{"[Content_Types].xml", "<Types/>", deflate},
              {"word/document.xml", document_xml, deflate},
              {"docProps/core.xml", "<cp:coreProperties/>", deflate}});
}

std::string Paragraphs(const std::vector<std::string>& lines) {
  std::string xml = "<w:document><w:body>";
  for (const std::string& l : lines) xml += "<w:p><w:r><w:t>" + l + "</w:t></w:r></w:p>";
  return xml + "</w:body></w:document>";
}

TEST(DocxImporterTest, ANoticeGivesItsTitleMetadataAndTheBodysParagraphsOnceEach) {
  for (bool deflate : {true, false}) {
    absl::StatusOr<v1::ImportItem> item = DocxToItem(Docx(kNoticeXml, deflate), "公积金.docx");
    ASSERT_TRUE(item.ok()) << item.status();
    const v1::Entry& e = item->entry();
    EXPECT_EQ(e.kind(), v1::ENTRY_KIND_POLICY_DOCUMENT);
    // Not the masthead nor the 文号: the title, from its two runs.
    EXPECT_EQ(e.title(), "长沙市人民政府办公厅关于印发住房公积金提取管理办法的通知");
    EXPECT_EQ(e.policy_document().doc_number(), "长政办发〔2024〕12号");
    ASSERT_GE(e.policy_document().issuing_agencies_size(), 1);
    EXPECT_EQ(e.policy_document().issuing_agencies(0), "长沙市人民政府办公厅");
    EXPECT_EQ(e.policy_document().publish_date(), "2024-03-05");
    EXPECT_EQ(e.policy_document().effective_date(), "2024-05-01");
    EXPECT_EQ(item->source_id(), "公积金.docx");
    EXPECT_EQ(item->content().format(), v1::CONTENT_FORMAT_PLAIN_TEXT);
    std::vector<std::string> lines = absl::StrSplit(item->content().text(), '\n');
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "长沙市人民政府办公厅文件",
                         "长政办发〔2024〕12号",
                         "长沙市人民政府办公厅关于印发住房公积金提取管理办法的通知",
                         "第一条\t为规范住房公积金提取&使用，制定本办法。",
                         "第二条 缴存职工每年可以提取一次。",  // Not the deletion, nor PAGE.
                         "提取情形",
                         "所需材料",
                         "咨询电话：12345",  // Once, not again from the fallback.
                         "第三条 本办法自2024年5月1日起施行。",
                         "长沙市人民政府办公厅",
                         "2024年3月5日",
                     }));
  }
}

TEST(DocxImporterTest, AFileThatIsNotAReadableWordDocumentIsThatFilesErrorSayingWhy) {
  std::string damaged = Docx(Paragraphs({"关于做好防汛工作的通知"}), /*deflate=*/false);
  damaged[damaged.find("关于")] ^= 1;  // A byte of the stored part changes; its CRC does not.
  std::string truncated = Docx(kNoticeXml);
  truncated.resize(truncated.size() / 2);
  std::string bomb = Docx(Paragraphs({"通知"}));
  // The directory's record of word/document.xml claims far more than a document unpacks to.
  size_t record = bomb.find(std::string("word/document.xml"), bomb.find("\x50\x4b\x01\x02"));
  ASSERT_NE(record, std::string::npos);
  bomb.replace(record - 46 + 24, 4, std::string("\x00\x00\x00\x40", 4));
  struct Case {
    std::string file;
    std::string source_id;
    std::string error;
  } cases[] = {
      {"第一条 这是一段纯文本。", "a.docx", "docx: not a Word document (no ZIP directory)"},
      {"", "a.docx", "docx: not a Word document (too short for a ZIP archive)"},
      {Zip({{"xl/workbook.xml", "<workbook/>"}}), "a.docx",
       "docx: not a Word document (it has no word/document.xml)"},
      {damaged, "a.docx", "docx: word/document.xml is damaged (its checksum does not match)"},
      {truncated, "a.docx", "docx: not a Word document (no ZIP directory)"},
      {bomb, "a.docx", "docx: word/document.xml unpacks to 1073741824 bytes, more than the"},
      {Zip({{"word/document.xml", Paragraphs({"通知"})}}, /*flags=*/1), "a.docx",
       "docx: password-protected"},
      {Docx(Paragraphs({"长政办发〔2024〕12号", "2024年3月5日"})), "a.docx",
       "content: the document has no text"},
      {Docx(kNoticeXml), "通知/~$公积金.docx", "docx: a Word lock file"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<v1::ImportItem> item = DocxToItem(c.file, c.source_id);
    ASSERT_FALSE(item.ok()) << c.error;
    EXPECT_EQ(item.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(item.status().message().substr(0, c.error.size()), c.error) << item.status();
  }
}

TEST(DocxImporterTest, ADirectoryOfDocumentsIsReadByItsFilesNamesInPathOrder) {
  testing::TempDir dir;
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::string path = dir.Sub(name);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
  };
  write("收件/b.docx", Docx(Paragraphs({"关于做好防汛工作的通知", "一、加强值守。"})));
  write("收件/a/公积金.DOCX", Docx(kNoticeXml));
  write("收件/~$公积金.docx", "\x0c王小明");
  write("收件/说明.txt", "not a document");
  absl::StatusOr<const SourceFormat*> format = FormatFromPath(dir.Sub("收件"));
  ASSERT_TRUE(format.ok()) << format.status();
  EXPECT_EQ((*format)->name, "docx");
  ASSERT_TRUE(FindSourceFormat("DOCX").ok());
  absl::StatusOr<std::unique_ptr<SourceReader>> reader = OpenSource(dir.Sub("收件"), nullptr);
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::vector<std::string> read;
  while (true) {
    absl::StatusOr<std::optional<SourceRecord>> record = (*reader)->Next();
    ASSERT_TRUE(record.ok()) << record.status();
    if (!record->has_value()) break;
    read.push_back((*record)->item.ok() ? absl::StrCat((*record)->item->source_id(), " ",
                                                       (*record)->item->entry().title())
                                        : absl::StrCat("error ", (*record)->origin));
  }
  EXPECT_EQ(read, (std::vector<std::string>{
                      "a/公积金.DOCX 长沙市人民政府办公厅关于印发住房公积金提取管理办法的通知",
                      "b.docx 关于做好防汛工作的通知",
                      absl::StrCat("error ", dir.Sub("收件/~$公积金.docx")),
                  }));
}

}  // namespace
}  // namespace hotline::kb::importers
