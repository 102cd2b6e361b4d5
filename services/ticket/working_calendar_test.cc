#include "services/ticket/working_calendar.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "tests/support/test_util.h"

namespace hotline::ticket {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// The real State Council calendars; tests run from the repository root.
constexpr char kHolidayDir[] = "../shared/data/holiday-cn";

// Expected instants are written in Beijing time with an explicit offset, so they do not depend
// on the zone the code under test uses.
absl::Time At(const std::string& rfc3339) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error)) {
    ADD_FAILURE() << "bad time literal " << rfc3339 << ": " << error;
  }
  return t;
}

// Results are shown in Beijing time, so a failing expectation reads like the calendar.
std::string Beijing(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E*S %a", t, absl::FixedTimeZone(8 * 60 * 60));
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

class WorkingCalendarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = WorkingCalendar::LoadDirectory(kHolidayDir);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    calendar_ = *std::move(loaded);
  }

  std::string Add(const std::string& start, int n) const {
    return Beijing(calendar_->AddWorkingDays(At(start), n));
  }
  std::string Subtract(const std::string& deadline, int n) const {
    return Beijing(calendar_->SubtractWorkingDays(At(deadline), n));
  }
  double Hours(const std::string& from, const std::string& to) const {
    return calendar_->WorkingHoursBetween(At(from), At(to));
  }

  std::shared_ptr<const WorkingCalendar> calendar_;
};

TEST(ShanghaiTimeZoneTest, IsUtcPlusEight) {
  absl::TimeZone zone = ShanghaiTimeZone();
  EXPECT_EQ(absl::ToCivilSecond(At("2024-01-31T16:30:00Z"), zone),
            absl::CivilSecond(2024, 2, 1, 0, 30, 0));
  EXPECT_EQ(absl::ToCivilSecond(At("2024-07-01T04:00:00Z"), zone),
            absl::CivilSecond(2024, 7, 1, 12, 0, 0));
}

TEST_F(WorkingCalendarTest, VersionNamesTheYearsAndAHash) {
  EXPECT_THAT(calendar_->version(), MatchesRegex("holiday-cn/2020-2027/[0-9a-f]{8}"));
}

TEST_F(WorkingCalendarTest, ListedDaysFollowTheirFlagOthersTheWeek) {
  EXPECT_FALSE(calendar_->IsWorkingDay(absl::CivilDay(2024, 1, 1)));    // 元旦, Monday
  EXPECT_TRUE(calendar_->IsWorkingDay(absl::CivilDay(2024, 2, 4)));     // make-up Sunday
  EXPECT_FALSE(calendar_->IsWorkingDay(absl::CivilDay(2024, 2, 12)));   // 春节, Monday
  EXPECT_TRUE(calendar_->IsWorkingDay(absl::CivilDay(2024, 2, 18)));    // make-up Sunday
  EXPECT_TRUE(calendar_->IsWorkingDay(absl::CivilDay(2024, 10, 12)));   // make-up Saturday
  EXPECT_FALSE(calendar_->IsWorkingDay(absl::CivilDay(2022, 12, 31)));  // listed in 2023.json
  EXPECT_FALSE(calendar_->IsWorkingDay(absl::CivilDay(2024, 3, 16)));   // plain Saturday
  EXPECT_TRUE(calendar_->IsWorkingDay(absl::CivilDay(2024, 3, 18)));    // plain Monday
  EXPECT_TRUE(calendar_->IsWorkingDay(absl::CivilDay(2030, 1, 7)));     // Monday, beyond the data
}

// 2024: 春节 off Sat 02-10 .. Sat 02-17; make-up working days Sun 02-04 and Sun 02-18.
TEST_F(WorkingCalendarTest, AddAcrossSpringFestival) {
  // Started Thursday afternoon; Friday 02-09 is the first counted day.
  EXPECT_EQ(Add("2024-02-08T16:00:00+08:00", 1), "2024-02-09 23:59:59.999999 Fri");
  // Then eight days off, then the make-up Sunday.
  EXPECT_EQ(Add("2024-02-08T16:00:00+08:00", 2), "2024-02-18 23:59:59.999999 Sun");
  EXPECT_EQ(Add("2024-02-08T16:00:00+08:00", 3), "2024-02-19 23:59:59.999999 Mon");
  // 02-09, 02-18, 02-19..02-23 (5), 02-26, 02-27, 02-28.
  EXPECT_EQ(Add("2024-02-08T16:00:00+08:00", 10), "2024-02-28 23:59:59.999999 Wed");
  // Friday evening before the festival: Saturday 02-03 is off, Sunday 02-04 is a make-up day.
  EXPECT_EQ(Add("2024-02-02T18:00:00+08:00", 1), "2024-02-04 23:59:59.999999 Sun");
}

// 2024: 国庆节 off Tue 10-01 .. Mon 10-07; make-up working days Sun 09-29 and Sat 10-12.
TEST_F(WorkingCalendarTest, AddAcrossNationalDay) {
  const std::string friday = "2024-09-27T10:00:00+08:00";
  EXPECT_EQ(Add(friday, 1), "2024-09-29 23:59:59.999999 Sun");
  EXPECT_EQ(Add(friday, 2), "2024-09-30 23:59:59.999999 Mon");
  EXPECT_EQ(Add(friday, 3), "2024-10-08 23:59:59.999999 Tue");
  EXPECT_EQ(Add(friday, 5), "2024-10-10 23:59:59.999999 Thu");
  // 09-29, 09-30, 10-08..10-11 (4), 10-12 (make-up Saturday), 10-14, 10-15, 10-16.
  EXPECT_EQ(Add(friday, 10), "2024-10-16 23:59:59.999999 Wed");
}

TEST_F(WorkingCalendarTest, FridayEveningStartCountsFromMonday) {
  // No holidays in March 2024.
  EXPECT_EQ(Add("2024-03-15T21:30:00+08:00", 1), "2024-03-18 23:59:59.999999 Mon");
  EXPECT_EQ(Add("2024-03-15T21:30:00+08:00", 5), "2024-03-22 23:59:59.999999 Fri");
  // 00:30 Friday in Beijing is still Thursday in UTC: the day is Beijing's.
  EXPECT_EQ(Add("2024-03-15T00:30:00+08:00", 1), "2024-03-18 23:59:59.999999 Mon");
  EXPECT_EQ(Add("2024-03-14T23:30:00+08:00", 1), "2024-03-15 23:59:59.999999 Fri");
}

TEST_F(WorkingCalendarTest, MakeUpSaturdayIsCounted) {
  EXPECT_EQ(Add("2024-10-11T09:00:00+08:00", 1), "2024-10-12 23:59:59.999999 Sat");
  EXPECT_EQ(Add("2024-10-11T09:00:00+08:00", 2), "2024-10-14 23:59:59.999999 Mon");
}

TEST_F(WorkingCalendarTest, StartOnAHoliday) {
  EXPECT_EQ(Add("2024-10-03T09:00:00+08:00", 1), "2024-10-08 23:59:59.999999 Tue");
  EXPECT_EQ(Add("2024-10-03T09:00:00+08:00", 3), "2024-10-10 23:59:59.999999 Thu");
  EXPECT_EQ(Add("2024-02-12T09:00:00+08:00", 1), "2024-02-18 23:59:59.999999 Sun");
  // A start on a working day never counts that day, make-up day or not.
  EXPECT_EQ(Add("2024-02-04T00:00:00+08:00", 1), "2024-02-05 23:59:59.999999 Mon");
}

TEST_F(WorkingCalendarTest, SubtractAcrossAHoliday) {
  const std::string tuesday_end = "2024-10-08T23:59:59.999999+08:00";
  EXPECT_EQ(Subtract(tuesday_end, 0), "2024-10-08 23:59:59.999999 Tue");
  EXPECT_EQ(Subtract(tuesday_end, 1), "2024-09-30 23:59:59.999999 Mon");
  EXPECT_EQ(Subtract(tuesday_end, 2), "2024-09-29 23:59:59.999999 Sun");
  EXPECT_EQ(Subtract(tuesday_end, 3), "2024-09-27 23:59:59.999999 Fri");
  // A deadline on a day off counts from the last working day before it, Monday 09-30.
  EXPECT_EQ(Subtract("2024-10-05T12:00:00+08:00", 0), "2024-09-30 23:59:59.999999 Mon");
  EXPECT_EQ(Subtract("2024-10-05T12:00:00+08:00", 1), "2024-09-29 23:59:59.999999 Sun");
  // Spring Festival: the day before Monday 02-19 is the make-up Sunday, and before that 02-09.
  EXPECT_EQ(Subtract("2024-02-19T23:59:59.999999+08:00", 1), "2024-02-18 23:59:59.999999 Sun");
  EXPECT_EQ(Subtract("2024-02-18T23:59:59.999999+08:00", 1), "2024-02-09 23:59:59.999999 Fri");
}

// The yellow card for a limit of n+1 days is due exactly when a limit of n days would end.
TEST_F(WorkingCalendarTest, SubtractOneUndoesTheLastAddedDay) {
  for (absl::Time start = At("2023-12-25T00:00:00+08:00"); start < At("2025-01-05T00:00:00+08:00");
       start += absl::Hours(7)) {
    for (int n = 1; n <= 15; ++n) {
      ASSERT_EQ(calendar_->SubtractWorkingDays(calendar_->AddWorkingDays(start, n + 1), 1),
                calendar_->AddWorkingDays(start, n))
          << "start " << Beijing(start) << ", n " << n;
    }
  }
}

TEST_F(WorkingCalendarTest, WorkingHoursSkipWeekendsAndHolidays) {
  // Friday 18:00 to Monday 09:00: 6 h on Friday, 9 h on Monday.
  EXPECT_DOUBLE_EQ(Hours("2024-03-15T18:00:00+08:00", "2024-03-18T09:00:00+08:00"), 15.0);
  // Around the make-up Saturday 10-12: 12 h Friday, 24 h Saturday, Sunday off, 12 h Monday.
  EXPECT_DOUBLE_EQ(Hours("2024-10-11T12:00:00+08:00", "2024-10-14T12:00:00+08:00"), 48.0);
  // The whole National Day break: only 09-29 and 09-30 count.
  EXPECT_DOUBLE_EQ(Hours("2024-09-28T00:00:00+08:00", "2024-10-08T00:00:00+08:00"), 48.0);
  EXPECT_DOUBLE_EQ(Hours("2024-10-02T08:00:00+08:00", "2024-10-06T08:00:00+08:00"), 0.0);
  EXPECT_DOUBLE_EQ(Hours("2024-03-18T10:00:00+08:00", "2024-03-18T11:30:00+08:00"), 1.5);
  EXPECT_DOUBLE_EQ(Hours("2024-03-18T11:30:00+08:00", "2024-03-18T10:00:00+08:00"), 0.0);
}

TEST(WorkingCalendarFromDaysTest, UsesTheGivenDaysAndVersion) {
  auto calendar = WorkingCalendar::FromDays({{absl::CivilDay(2024, 3, 18), true, "test holiday"},
                                             {absl::CivilDay(2024, 3, 16), false, "test make-up"}},
                                            "test/1");
  EXPECT_EQ(calendar->version(), "test/1");
  EXPECT_FALSE(calendar->IsWorkingDay(absl::CivilDay(2024, 3, 18)));
  EXPECT_TRUE(calendar->IsWorkingDay(absl::CivilDay(2024, 3, 16)));
  EXPECT_EQ(Beijing(calendar->AddWorkingDays(At("2024-03-15T12:00:00+08:00"), 2)),
            "2024-03-19 23:59:59.999999 Tue");
}

class WorkingCalendarLoadTest : public ::testing::Test {
 protected:
  // Copies the real calendar into the temporary directory (never edit ../shared).
  void CopyRealData() {
    for (const auto& entry : std::filesystem::directory_iterator(kHolidayDir)) {
      std::filesystem::copy_file(entry.path(),
                                 std::filesystem::path(dir_.path()) / entry.path().filename());
    }
  }

  testing::TempDir dir_;
};

TEST_F(WorkingCalendarLoadTest, VersionFollowsTheData) {
  auto real = WorkingCalendar::LoadDirectory(kHolidayDir);
  ASSERT_TRUE(real.ok()) << real.status();
  CopyRealData();
  auto copy = WorkingCalendar::LoadDirectory(dir_.path());
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ((*copy)->version(), (*real)->version());

  // Turn the make-up Saturday 2024-10-12 into a day off.
  std::string path = dir_.Sub("2024.json");
  nlohmann::json data = nlohmann::json::parse(ReadText(path));
  bool changed = false;
  for (auto& day : data["days"]) {
    if (day["date"] == "2024-10-12") {
      day["isOffDay"] = true;
      changed = true;
    }
  }
  ASSERT_TRUE(changed);
  WriteText(path, data.dump(4));

  auto edited = WorkingCalendar::LoadDirectory(dir_.path());
  ASSERT_TRUE(edited.ok()) << edited.status();
  EXPECT_NE((*edited)->version(), (*real)->version());
  EXPECT_THAT((*edited)->version(), MatchesRegex("holiday-cn/2020-2027/[0-9a-f]{8}"));
  EXPECT_FALSE((*edited)->IsWorkingDay(absl::CivilDay(2024, 10, 12)));
}

TEST_F(WorkingCalendarLoadTest, MalformedJsonNamesTheFile) {
  WriteText(dir_.Sub("2024.json"), R"({"year": 2024, "days": [)");
  auto loaded = WorkingCalendar::LoadDirectory(dir_.path());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(loaded.status().message()),
              AllOf(HasSubstr(dir_.Sub("2024.json")), HasSubstr("not valid JSON")));
}

TEST_F(WorkingCalendarLoadTest, BadFieldsNameTheFileAndField) {
  struct Case {
    const char* contents;
    const char* expected;
  };
  const Case cases[] = {
      {R"([])", "top level must be an object"},
      {R"({"days": []})", "\"year\" must be an integer"},
      {R"({"year": 2023, "days": []})", "\"year\" is 2023 but the file name says 2024"},
      {R"({"year": 2024})", "\"days\" must be an array"},
      {R"({"year": 2024, "days": [{"name": "x", "date": "2024-01-01", "isOffDay": true},
                                  {"name": "x", "date": "2024-02-30", "isOffDay": true}]})",
       "days[1].date \"2024-02-30\" is not a valid YYYY-MM-DD date"},
      {R"({"year": 2024, "days": [{"name": "x", "date": "2024-2-3", "isOffDay": true}]})",
       "days[0].date \"2024-2-3\" is not a valid YYYY-MM-DD date"},
      {R"({"year": 2024, "days": [{"name": "x", "date": "2042-02-03", "isOffDay": true}]})",
       "days[0].date 2042-02-03 is too far from the year 2024"},
      {R"({"year": 2024, "days": [{"name": "x", "date": "2024-02-03", "isOffDay": "yes"}]})",
       "days[0].isOffDay must be true or false"},
      {R"({"year": 2024, "days": [{"date": "2024-02-03", "isOffDay": true}]})",
       "days[0].name must be a string"},
  };
  for (const Case& c : cases) {
    WriteText(dir_.Sub("2024.json"), c.contents);
    auto loaded = WorkingCalendar::LoadDirectory(dir_.path());
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument) << c.contents;
    EXPECT_THAT(std::string(loaded.status().message()),
                AllOf(HasSubstr(dir_.Sub("2024.json")), HasSubstr(c.expected)));
  }
}

TEST_F(WorkingCalendarLoadTest, FilesThatDisagreeAreRejected) {
  WriteText(dir_.Sub("2023.json"), R"({"year": 2023, "days": [
                {"name": "元旦", "date": "2024-01-01", "isOffDay": false}]})");
  WriteText(dir_.Sub("2024.json"), R"({"year": 2024, "days": [
                {"name": "元旦", "date": "2024-01-01", "isOffDay": true}]})");
  auto loaded = WorkingCalendar::LoadDirectory(dir_.path());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(loaded.status().message()),
              AllOf(HasSubstr(dir_.Sub("2023.json")), HasSubstr(dir_.Sub("2024.json")),
                    HasSubstr("2024-01-01")));
}

TEST_F(WorkingCalendarLoadTest, MissingOrEmptyDirectoryIsNotFound) {
  auto missing = WorkingCalendar::LoadDirectory(dir_.Sub("nowhere"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(dir_.Sub("nowhere")));

  // Files that are not YYYY.json are not calendar data.
  WriteText(dir_.Sub("LICENSE"), "MIT");
  WriteText(dir_.Sub("schema.json"), "{}");
  auto empty = WorkingCalendar::LoadDirectory(dir_.path());
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(empty.status().message()),
              AllOf(HasSubstr(dir_.path()), HasSubstr("no YYYY.json")));
}

}  // namespace
}  // namespace hotline::ticket
