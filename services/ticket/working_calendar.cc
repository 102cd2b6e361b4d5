#include "services/ticket/working_calendar.h"

#include <glog/logging.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/files.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace hotline::ticket {
namespace {

using Json = nlohmann::json;

// "2024.json" -> 2024; anything else (LICENSE, schema files, editor backups) is not ours.
bool YearOfFileName(absl::string_view name, int* year) {
  if (name.size() != 9 || !absl::EndsWith(name, ".json")) return false;
  absl::string_view digits = name.substr(0, 4);
  if (!std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit)) return false;
  return absl::SimpleAtoi(digits, year);
}

// Strict YYYY-MM-DD: absl's parser alone also takes unpadded fields, and a date it had to
// normalise (2024-02-30) is a typo in the data, not March 1st.
bool ParseDate(absl::string_view text, absl::CivilDay* day) {
  return absl::ParseCivilTime(text, day) && absl::FormatCivilTime(*day) == text;
}

// The days listed in one holiday-cn file. Errors name the file and the field.
absl::StatusOr<std::vector<CalendarDay>> ParseHolidayFile(const std::string& path,
                                                          const std::string& contents,
                                                          int file_year) {
  auto invalid = [&path](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
  };
  Json root;
  try {
    root = Json::parse(contents);
  } catch (const Json::exception& e) {
    // nlohmann reports the line and column, which is what someone fixing the file needs.
    return invalid(absl::StrCat("not valid JSON: ", e.what()));
  }
  if (!root.is_object()) return invalid("the top level must be an object");

  auto year = root.find("year");
  if (year == root.end() || !year->is_number_integer()) {
    return invalid("\"year\" must be an integer");
  }
  // A file named after one year but holding another is a copying mistake that would silently
  // shift a year's holidays; the name is also what the version's year range is built from.
  if (year->get<int64_t>() != file_year) {
    return invalid(
        absl::StrCat("\"year\" is ", year->get<int64_t>(), " but the file name says ", file_year));
  }

  auto days = root.find("days");
  if (days == root.end() || !days->is_array()) return invalid("\"days\" must be an array");

  std::vector<CalendarDay> parsed;
  parsed.reserve(days->size());
  for (size_t i = 0; i < days->size(); ++i) {
    const Json& entry = (*days)[i];
    std::string field = absl::StrCat("days[", i, "]");
    if (!entry.is_object()) return invalid(absl::StrCat(field, " must be an object"));

    auto name = entry.find("name");
    if (name == entry.end() || !name->is_string()) {
      return invalid(absl::StrCat(field, ".name must be a string"));
    }
    auto off = entry.find("isOffDay");
    if (off == entry.end() || !off->is_boolean()) {
      return invalid(absl::StrCat(field, ".isOffDay must be true or false"));
    }
    auto date = entry.find("date");
    if (date == entry.end() || !date->is_string()) {
      return invalid(absl::StrCat(field, ".date must be a \"YYYY-MM-DD\" string"));
    }
    CalendarDay day;
    const std::string& date_text = date->get_ref<const std::string&>();
    if (!ParseDate(date_text, &day.day)) {
      return invalid(
          absl::StrCat(field, ".date \"", date_text, "\" is not a valid YYYY-MM-DD date"));
    }
    // A holiday block may spill into the neighbouring year (2023.json lists 2022-12-31), but
    // anything further away is a typo in the year.
    if (day.day.year() < file_year - 1 || day.day.year() > file_year + 1) {
      return invalid(
          absl::StrCat(field, ".date ", date_text, " is too far from the year ", file_year));
    }
    day.off = off->get<bool>();
    day.name = name->get<std::string>();
    parsed.push_back(std::move(day));
  }
  return parsed;
}

}  // namespace

absl::TimeZone ShanghaiTimeZone() {
  // Loaded once: LoadTimeZone reads tzdata from disk, and deadlines are computed per request.
  static const absl::TimeZone zone = [] {
    absl::TimeZone loaded;
    if (absl::LoadTimeZone("Asia/Shanghai", &loaded)) return loaded;
    LOG(WARNING) << "no tzdata for Asia/Shanghai; using a fixed UTC+8 zone";
    return absl::FixedTimeZone(8 * 60 * 60);
  }();
  return zone;
}

absl::StatusOr<std::shared_ptr<const WorkingCalendar>> WorkingCalendar::LoadDirectory(
    const std::string& directory) {
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    return absl::NotFoundError(
        absl::StrCat("calendar directory ", directory, " does not exist or is not a directory"));
  }

  // Name order makes the version independent of the order the file system lists entries in;
  // for YYYY.json names it is also year order.
  std::map<std::string, int> year_by_file;
  for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
       it.increment(error)) {
    int year = 0;
    std::string name = it->path().filename().string();
    std::error_code not_regular;
    if (YearOfFileName(name, &year) && it->is_regular_file(not_regular)) {
      year_by_file[name] = year;
    }
  }
  if (error) {
    return absl::NotFoundError(
        absl::StrCat("cannot list calendar directory ", directory, ": ", error.message()));
  }
  if (year_by_file.empty()) {
    return absl::NotFoundError(
        absl::StrCat("calendar directory ", directory, " holds no YYYY.json files"));
  }

  struct Listing {
    bool off;
    std::string file;
  };
  std::map<absl::CivilDay, Listing> listed;
  std::string all_contents;  // The version is a digest of every file, in name order.
  for (const auto& [name, year] : year_by_file) {
    std::string path = (std::filesystem::path(directory) / name).string();
    ASSIGN_OR_RETURN(std::string contents, ReadFileToString(path, "calendar file"));
    all_contents += contents;
    ASSIGN_OR_RETURN(std::vector<CalendarDay> days, ParseHolidayFile(path, contents, year));
    for (const CalendarDay& day : days) {
      auto [it, inserted] = listed.try_emplace(day.day, Listing{day.off, path});
      // The same day may appear in two files (a holiday block across New Year); that is only
      // a problem when they disagree, because then neither answer can be trusted.
      if (!inserted && it->second.off != day.off) {
        auto kind = [](bool off) { return off ? "a day off" : "a working day"; };
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": ", absl::FormatCivilTime(day.day), " is ", kind(day.off),
                         " here but ", kind(it->second.off), " in ", it->second.file));
      }
    }
  }

  std::map<absl::CivilDay, bool> listed_off;
  for (const auto& [day, listing] : listed) listed_off.emplace(day, listing.off);
  std::string version =
      absl::StrCat("holiday-cn/", year_by_file.begin()->second, "-", year_by_file.rbegin()->second,
                   "/", Sha256Hex(all_contents).substr(0, 8));
  return std::shared_ptr<const WorkingCalendar>(
      new WorkingCalendar(std::move(listed_off), std::move(version)));
}

std::shared_ptr<const WorkingCalendar> WorkingCalendar::FromDays(std::vector<CalendarDay> days,
                                                                 std::string version) {
  std::map<absl::CivilDay, bool> listed_off;
  for (const CalendarDay& day : days) listed_off[day.day] = day.off;
  return std::shared_ptr<const WorkingCalendar>(
      new WorkingCalendar(std::move(listed_off), std::move(version)));
}

WorkingCalendar::WorkingCalendar(std::map<absl::CivilDay, bool> listed_off, std::string version)
    : zone_(ShanghaiTimeZone()), listed_off_(std::move(listed_off)), version_(std::move(version)) {}

bool WorkingCalendar::IsWorkingDay(absl::CivilDay day) const {
  auto it = listed_off_.find(day);
  if (it != listed_off_.end()) return !it->second;
  absl::Weekday weekday = absl::GetWeekday(day);
  return weekday != absl::Weekday::saturday && weekday != absl::Weekday::sunday;
}

absl::Time WorkingCalendar::EndOfDay(absl::CivilDay day) const {
  return absl::FromCivil(day + 1, zone_) - absl::Microseconds(1);
}

// The day-by-day loops below always end: only listed days can differ from the normal week, and
// there are finitely many of them, so past the listed range every week has working days.

absl::Time WorkingCalendar::AddWorkingDays(absl::Time start, int n) const {
  CHECK_GE(n, 1) << "a time limit must be at least one working day";
  absl::CivilDay day = absl::ToCivilDay(start, zone_);
  for (int counted = 0; counted < n;) {
    ++day;
    if (IsWorkingDay(day)) ++counted;
  }
  return EndOfDay(day);
}

absl::Time WorkingCalendar::SubtractWorkingDays(absl::Time deadline, int n) const {
  CHECK_GE(n, 0) << "cannot go back a negative number of working days";
  absl::CivilDay day = absl::ToCivilDay(deadline, zone_);
  while (!IsWorkingDay(day)) --day;
  for (int counted = 0; counted < n;) {
    --day;
    if (IsWorkingDay(day)) ++counted;
  }
  return EndOfDay(day);
}

double WorkingCalendar::WorkingHoursBetween(absl::Time from, absl::Time to) const {
  if (to <= from) return 0;
  absl::Duration total = absl::ZeroDuration();
  const absl::CivilDay last = absl::ToCivilDay(to, zone_);
  for (absl::CivilDay day = absl::ToCivilDay(from, zone_); day <= last; ++day) {
    if (!IsWorkingDay(day)) continue;
    absl::Time begin = std::max(from, absl::FromCivil(day, zone_));
    absl::Time end = std::min(to, absl::FromCivil(day + 1, zone_));
    if (end > begin) total += end - begin;
  }
  return absl::ToDoubleHours(total);
}

}  // namespace hotline::ticket
