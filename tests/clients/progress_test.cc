#include "pproc/progress.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace pprocd::pproc {
namespace {

TEST(ProgressBarTest, RendersFilledFractionCountAndRate) {
  EXPECT_EQ(ProgressBar::Render(512, 1000, 2100),
            "[###############...............] 512/1000 items 2.1k/s 1s left");
  EXPECT_EQ(ProgressBar::Render(100, 1000, 2),
            "[###...........................] 100/1000 items "
            "2.0/s 7m30s left");
  EXPECT_EQ(ProgressBar::Render(0, 10, 0), "[..............................] 0/10 items 0.0/s");
  EXPECT_EQ(ProgressBar::Render(10, 10, 950), "[##############################] 10/10 items 950/s");
}

TEST(ProgressBarTest, FormatsTimeLeft) {
  EXPECT_EQ(ProgressBar::FormatTimeLeft(42), "42s");
  EXPECT_EQ(ProgressBar::FormatTimeLeft(185), "3m05s");
  EXPECT_EQ(ProgressBar::FormatTimeLeft(7800), "2h10m");
}

TEST(ProgressBarTest, FormatsRates) {
  EXPECT_EQ(ProgressBar::FormatRate(2.5), "2.5/s");
  EXPECT_EQ(ProgressBar::FormatRate(950), "950/s");
  EXPECT_EQ(ProgressBar::FormatRate(2100), "2.1k/s");
  EXPECT_EQ(ProgressBar::FormatRate(1.3e6), "1.3M/s");
}

std::string Contents(FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string text;
  int c;
  while ((c = std::fgetc(file)) != EOF) text.push_back(static_cast<char>(c));
  return text;
}

TEST(ProgressBarTest, DisabledBarPrintsNothing) {
  FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    ProgressBar bar(out, 100, /*enabled=*/false);
    for (int i = 0; i < 100; ++i) bar.Advance();
    bar.Hide();
  }
  EXPECT_EQ(Contents(out), "");
  std::fclose(out);
}

TEST(ProgressBarTest, EnabledBarThrottlesRedrawsAndErasesItselfAtTheEnd) {
  FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    ProgressBar bar(out, 1000, /*enabled=*/true);
    for (int i = 0; i < 1000; ++i) bar.Advance();  // Well under 100 ms.
  }
  std::string text = Contents(out);
  EXPECT_EQ(text.rfind("\r\033[K"), text.size() - 4) << "not erased at end";
  // One draw (the first) plus the final erase; not one per item.
  size_t draws = 0;
  for (size_t at = text.find("items"); at != std::string::npos; at = text.find("items", at + 1)) {
    ++draws;
  }
  EXPECT_GE(draws, 1u);
  EXPECT_LE(draws, 3u);
  std::fclose(out);
}

TEST(ProgressBarTest, SetShowsAnAbsoluteCountThatMayGoDown) {
  FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    ProgressBar bar(out, 10, /*enabled=*/true);
    bar.Set(7);
    bar.Hide();
    bar.Set(2);  // Drawn at once after Hide().
  }
  std::string text = Contents(out);
  EXPECT_NE(text.find(" 7/10 items"), std::string::npos) << text;
  EXPECT_NE(text.find(" 2/10 items"), std::string::npos) << text;
  std::fclose(out);
}

}  // namespace
}  // namespace pprocd::pproc
