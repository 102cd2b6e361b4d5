// The official working-day calendar that ticket deadlines count on.
//
// Time limits for work orders are given in working days (shared/DOMAIN.md): weekends and public
// holidays do not count, and some weekend days are make-up working days (调休). The State Council
// publishes the holidays year by year, so the calendar is data, loaded from holiday-cn files, and
// it carries a version: a deadline can record which calendar it was computed with, and a changed
// calendar is visible as a changed version.
//
// All days are civil days in Asia/Shanghai, whatever the time zone of the server.
#ifndef HOTLINE_SERVICES_TICKET_WORKING_CALENDAR_H_
#define HOTLINE_SERVICES_TICKET_WORKING_CALENDAR_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace hotline::ticket {

// The Asia/Shanghai time zone. Falls back to a fixed UTC+8 zone when the system has no tzdata
// (China has kept UTC+8 without daylight saving since 1991, so the two agree on every date the
// calendar deals with).
absl::TimeZone ShanghaiTimeZone();

// One day the official calendar lists.
struct CalendarDay {
  absl::CivilDay day;
  // true: a public holiday. false: a make-up working day on a weekend (调休).
  bool off = true;
  std::string name;  // e.g. 春节; informational only.
};

// Immutable once built, so one instance may be shared by any number of threads.
class WorkingCalendar {
 public:
  // Loads every YYYY.json in `directory` (holiday-cn format:
  // {"year": 2024, "days": [{"name": "春节", "date": "2024-02-10", "isOffDay": true}, ...]});
  // other files are ignored. NOT_FOUND when the directory is missing or holds no YYYY.json;
  // INVALID_ARGUMENT, naming the file and the field, when a file is malformed or two files
  // disagree about a day.
  //
  // version() is "holiday-cn/<first year>-<last year>/<first 8 hex digits of the SHA-256 of the
  // files' contents, in name order>", so that any change of the data gives a new version.
  static absl::StatusOr<std::shared_ptr<const WorkingCalendar>> LoadDirectory(
      const std::string& directory);

  // For tests and for data obtained by other means. When a day is listed twice, the last
  // listing wins.
  static std::shared_ptr<const WorkingCalendar> FromDays(std::vector<CalendarDay> days,
                                                         std::string version);

  const std::string& version() const { return version_; }

  // Listed days follow their flag; other days: Monday to Friday work, Saturday and Sunday off.
  bool IsWorkingDay(absl::CivilDay day) const;

  // The deadline of a limit of `n` (>= 1) working days started at `start`. Counting starts on
  // the first working day after the Shanghai day containing `start` (the day of intake never
  // counts, however early it was); the deadline is the end of the n-th counted working day,
  // 23:59:59.999999 Shanghai time.
  absl::Time AddWorkingDays(absl::Time start, int n) const;

  // The end of the n-th (n >= 0) working day before the working day containing `deadline`;
  // when `deadline` falls on a day off, counting starts from the last working day before it.
  // SubtractWorkingDays(deadline, 1) is when the yellow card ("one working day before the
  // deadline") is due.
  absl::Time SubtractWorkingDays(absl::Time deadline, int n) const;

  // The part of [from, to) that falls on working days, in hours (24 per whole working day);
  // 0 when to <= from. Used for the average handling time.
  double WorkingHoursBetween(absl::Time from, absl::Time to) const;

 private:
  WorkingCalendar(std::map<absl::CivilDay, bool> listed_off, std::string version);

  // The instant a civil day ends, as the last microsecond of it: deadlines are compared with
  // `<=`, and a reply stamped 23:59:59 on the last day must still be on time.
  absl::Time EndOfDay(absl::CivilDay day) const;

  absl::TimeZone zone_;
  // Days the official calendar lists, mapped to "is off". Unlisted days follow the normal week.
  std::map<absl::CivilDay, bool> listed_off_;
  std::string version_;
};

}  // namespace hotline::ticket

#endif  // HOTLINE_SERVICES_TICKET_WORKING_CALENDAR_H_
