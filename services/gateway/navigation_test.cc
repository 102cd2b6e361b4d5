// The navigation bar goes where a page asks for it, with the page's own link marked, and
// every page of the consoles asks for it instead of carrying a copy.
#include "services/gateway/navigation.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace hotline::gateway {
namespace {

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(NavigationTest, TheBarReplacesTheMarkerAndMarksThePageItIsOn) {
  std::string page = "<header>\n    <!-- navigation -->\n</header>";
  InsertNavigation("/dispatch.html", &page);
  EXPECT_EQ(Count(page, kNavigationMarker), 0);
  EXPECT_EQ(Count(page, "<li>"), 10);
  EXPECT_EQ(Count(page, "aria-current"), 1);
  EXPECT_NE(page.find("<a href=\"/dispatch.html\" aria-current=\"page\">派单台</a>"),
            std::string::npos);
  EXPECT_NE(page.find("<a href=\"/intake.html\">受理台</a>"), std::string::npos);
}

TEST(NavigationTest, APageOffTheBarGetsNoCurrentLinkAndAPageWithoutTheMarkerIsUnchanged) {
  EXPECT_EQ(Count(NavigationBar("/login.html"), "aria-current"), 0);
  std::string page = "<main>nothing to see</main>";
  InsertNavigation("/intake.html", &page);
  EXPECT_EQ(page, "<main>nothing to see</main>");
}

TEST(NavigationTest, APortalPageGetsThePortalsHeaderAndNoLinkIntoTheConsoles) {
  std::string page =
      "<head>\n  <!-- portal head -->\n</head>\n<body>\n  <!-- portal header -->\n"
      "  <main></main>";
  InsertNavigation("/public/track.html", &page);
  EXPECT_EQ(Count(page, kPortalHeadMarker), 0);
  EXPECT_EQ(Count(page, kPortalHeaderMarker), 0);
  EXPECT_EQ(Count(page, "/public/portal.js"), 1);
  EXPECT_EQ(Count(page, "class=\"skip-link\""), 1);
  EXPECT_EQ(Count(page, "<header class=\"site\">"), 1);
  EXPECT_EQ(Count(page, "id=\"toggle-high-contrast\""), 1);
  EXPECT_EQ(Count(page, "<li>"), 3);
  EXPECT_NE(page.find("<a href=\"/public/track.html\" aria-current=\"page\">办理进度</a>"),
            std::string::npos);
  EXPECT_EQ(page.find("/intake.html"), std::string::npos);
  EXPECT_EQ(page.find("主导航"), std::string::npos);
}

// Every page in `directory` (login.html aside) has `marker` once and no bar of its own; the
// number of pages.
int ExpectEveryPageAsksForTheBar(const std::string& directory, const char* marker) {
  int pages = 0;
  for (const auto& file : std::filesystem::directory_iterator(directory)) {
    if (file.path().extension() != ".html" || file.path().filename() == "login.html") continue;
    std::ifstream in(file.path());
    std::stringstream text;
    text << in.rdbuf();
    SCOPED_TRACE(file.path().filename().string());
    EXPECT_EQ(Count(text.str(), marker), 1);
    EXPECT_EQ(Count(text.str(), "<nav"), 0);
    ++pages;
  }
  return pages;
}

TEST(NavigationTest, EveryPageAsksForTheBarAndCarriesNoCopy) {
  EXPECT_EQ(ExpectEveryPageAsksForTheBar(HOTLINE_WEB_ROOT, kNavigationMarker), 10);
  for (const char* marker : {kPortalHeadMarker, kPortalHeaderMarker}) {
    EXPECT_EQ(ExpectEveryPageAsksForTheBar(std::string(HOTLINE_WEB_ROOT) + "/public", marker), 4);
  }
}

}  // namespace
}  // namespace hotline::gateway
