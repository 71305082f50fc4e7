#include "storyline/document.hpp"

#include <gtest/gtest.h>

namespace storyline {
namespace {

TEST(Date, ParsesIsoDatesToDaysSinceEpoch) {
  EXPECT_EQ(parse_date("1970-01-01"), 0);
  EXPECT_EQ(parse_date("1970-01-02"), 1);
  EXPECT_EQ(parse_date("1969-12-31"), -1);
  EXPECT_EQ(parse_date("2000-03-01"), 11017);
  EXPECT_EQ(parse_date("2018-07-11"), 17723);
}

TEST(Date, AcceptsYearAndMonthPrecisionAndTimes) {
  EXPECT_EQ(parse_date("2018"), parse_date("2018-01-01"));
  EXPECT_EQ(parse_date("2018-07"), parse_date("2018-07-01"));
  EXPECT_EQ(parse_date("2018-07-11T10:20:30Z"), parse_date("2018-07-11"));
  EXPECT_EQ(parse_date("2018-07-11 10:20"), parse_date("2018-07-11"));
  EXPECT_EQ(parse_date("2018-07-11T10:20:30+02:00"), parse_date("2018-07-11"));
}

TEST(Date, RejectsWhatIsNotIso8601) {
  for (const char* bad : {"", "18", "2018/07/11", "11-07-2018", "2018-13-01", "2018-02-30", "2019-02-29",
                          "July 2018", "2018-7-11", "2018-07-11x"}) {
    EXPECT_FALSE(parse_date(bad).has_value()) << bad;
  }
  EXPECT_TRUE(parse_date("2020-02-29").has_value());
}

TEST(Date, FormatsBackToIso) {
  for (const char* d : {"1970-01-01", "1999-12-31", "2000-02-29", "2025-11-01", "1900-03-01"}) {
    EXPECT_EQ(format_date(*parse_date(d)), d);
  }
  EXPECT_EQ(format_date(kNoDate), "");
}

}  // namespace
}  // namespace storyline
