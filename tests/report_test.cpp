// The HTML report: the renderer on its own, and `cluster --report` read back as a browser shows it
// (headless Chromium's --dump-dom), on the seeds and on timeline17.
#include "storyline/report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <thread>

#include "server_process.hpp"
#include "storyline/document.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

using test::run_cli;
using test::TempDir;

// The DOM of an HTML file after Chromium has loaded it (and run its script).
std::string dump_dom(const std::string& html_path) {
  const std::string browser = STORYLINE_CHROMIUM;
  if (browser.empty()) {
    ADD_FAILURE()
        << "chromium not found at configure time: the set-up command (.ci/install-deps) installs it";
    return "";
  }
  const bool url = html_path.rfind("http", 0) == 0;
  test::TempDir profile;
  const auto r = test::run_command(
      browser + " --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir=" +
      profile.path("chromium") + " --dump-dom '" + (url ? "" : "file://") + html_path + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// The text of an element's markup: tags dropped, white space collapsed.
std::string text_of(const std::string& html) {
  std::string text = std::regex_replace(html, std::regex("<[^>]*>"), " ");
  text = std::regex_replace(text, std::regex("\\s+"), " ");
  return text;
}

// The <section> of thread id in a dumped DOM, or "".
std::string thread_section(const std::string& dom, const std::string& id) {
  const std::string open = "<section class=\"thread\" id=\"" + id + "\">";
  const std::size_t at = dom.find(open);
  if (at == std::string::npos) return "";
  return dom.substr(at, dom.find("</section>", at) - at);
}

std::map<std::string, std::string> field_by_id(const std::string& path, const std::string& field) {
  std::map<std::string, std::string> out;
  const std::regex id("\"id\": ?\"([^\"]*)\""), value("\"" + field + "\": ?\"([^\"]*)\"");
  for (const std::string& line : test::read_lines(path)) {
    std::smatch a, b;
    if (std::regex_search(line, a, id) && std::regex_search(line, b, value)) out[a[1]] = b[1];
  }
  return out;
}

ReportDocument doc(const std::string& id, const std::string& title, const char* date, float similarity = 1) {
  return {id, title, *parse_date(date), similarity};
}

TEST(Report, GroupsDigits) {
  EXPECT_EQ(group_digits(0), "0");
  EXPECT_EQ(group_digits(999), "999");
  EXPECT_EQ(group_digits(1000), "1,000");
  EXPECT_EQ(group_digits(1234567), "1,234,567");
}

TEST(Report, EscapesTextAndCountsWhatItLeavesOut) {
  ReportData data;
  data.title = "run <1>";
  data.figures = {{"documents", "12"}};
  data.total_threads = 5;
  ReportThread t;
  t.id = "t0";
  t.size = 40;
  t.first = *parse_date("2018-07-11"), t.last = *parse_date("2025-11-01");
  t.terms = {"syria", "israel"};
  t.total_stories = 3;
  ReportStory s;
  s.id = "s0";
  s.size = 30;
  s.first = s.last = t.first;
  s.headline = "<script>alert('x')</script> & more";
  s.documents = {doc("a", "A title", "2018-07-11")};
  t.stories.push_back(s);
  data.threads.push_back(t);
  ReportDuplicateGroup g{
      doc("rep", "The original", "2020-01-01"), 4, {doc("c1", "A copy", "2020-01-02", 0.91f)}};
  data.duplicates.push_back(g);
  data.total_duplicate_groups = 9;
  const std::string html = render_html_report(data);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"), std::string::npos);
  EXPECT_NE(html.find("run &lt;1&gt;"), std::string::npos);
  EXPECT_NE(html.find("… and 29 more"), std::string::npos);   // the story's other documents
  EXPECT_NE(html.find("… and 2 more"), std::string::npos);    // the group's other copies
  EXPECT_NE(html.find("1 largest of 5"), std::string::npos);  // threads shown of all
  EXPECT_NE(html.find("0.910"), std::string::npos);           // a copy's similarity
  EXPECT_NE(html.find("3 stories (1 shown)"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos) << "no external asset";
}

// The founding example as a reader sees it: one thread holding the 2018 story and the 2025 story, in
// that order, with their headlines.
TEST(ReportInBrowser, SeedsThreadShowsBothStoriesWithTheirYears) {
  TempDir dir;
  const auto r = run_cli("cluster " + std::string(STORYLINE_SOURCE_DIR) + "/datasets/seeds.jsonl -o " +
                         dir.path("out.jsonl") + " --report " + dir.path("report.html"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string dom = dump_dom(dir.path("report.html"));
  const auto thread = field_by_id(dir.path("out.jsonl"), "thread_id");
  ASSERT_EQ(thread.size(), 2u);
  const std::string section = thread_section(dom, thread.begin()->second);
  ASSERT_FALSE(section.empty()) << dom.substr(0, 2000);
  const std::string text = text_of(section);
  const std::size_t y2018 = text.find("2018-07-11"), y2025 = text.find("2025-11-01");
  ASSERT_NE(y2018, std::string::npos) << text;
  ASSERT_NE(y2025, std::string::npos) << text;
  EXPECT_LT(y2018, y2025) << "stories in date order";
  const std::regex story("<details class=\"story\"");
  EXPECT_EQ(
      std::distance(std::sregex_iterator(section.begin(), section.end(), story), std::sregex_iterator()), 2);
  EXPECT_NE(text.find("Netanyahu"), std::string::npos) << "the 2018 headline";
  EXPECT_NE(text.find("Russia is secretly mediating"), std::string::npos) << "the 2025 headline";
  // The timeline has the thread's row and both years on its axis.
  const std::size_t svg = dom.find("<svg id=\"timeline\"");
  ASSERT_NE(svg, std::string::npos);
  const std::string axis = dom.substr(svg, dom.find("</svg>", svg) - svg);
  EXPECT_NE(axis.find(">2018<"), std::string::npos);
  EXPECT_NE(axis.find(">2025<"), std::string::npos);
  EXPECT_NE(axis.find("href=\"#" + thread.begin()->second + "\""), std::string::npos);
  // A story's mark tells its headline, date, terms and entities on hover.
  EXPECT_TRUE(std::regex_search(axis, std::regex("<title>Netanyahu[^<]*2018-07-11[^<]*syria[^<]*Netanyahu")))
      << axis;
}

// A broken gold file stops the run before the work, naming its line; no report is left behind.
TEST(ReportCli, ABadGoldFileStopsTheRunFirst) {
  TempDir dir;
  test::write_file(dir.path("gold.jsonl"), "{\"id\":\"a\",\"thread_id\":\"x\"}\n{not json\n");
  const auto r = run_cli("cluster " + std::string(STORYLINE_SOURCE_DIR) + "/datasets/seeds.jsonl -o " +
                         dir.path("out.jsonl") + " --report " + dir.path("r.html") + " --gold " +
                         dir.path("gold.jsonl"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("gold.jsonl:2"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path("r.html")));
  EXPECT_FALSE(std::filesystem::exists(dir.path("out.jsonl")));
}

// timeline17: its nine largest threads appear, each with its top terms; a duplicate group lists its
// copies; the gold scores are among the figures.
TEST(ReportInBrowser, Timeline17LargestThreadsAndDuplicateGroups) {
  const std::string data = std::string(STORYLINE_SOURCE_DIR) + "/../shared/datasets/timeline17/docs.jsonl";
  if (!std::filesystem::exists(data)) GTEST_SKIP() << "timeline17 not found at " << data;
  TempDir dir;
  const auto r = run_cli("cluster " + data + " -q -o " + dir.path("out.jsonl") + " --threads " +
                         dir.path("threads.jsonl") + " --report " + dir.path("report.html") + " --gold " +
                         data + " --gold-thread-field label");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string dom = dump_dom(dir.path("report.html"));
  // The threads file's nine largest, by size.
  struct Thread {
    std::string id;
    long size;
    std::vector<std::string> terms;
  };
  std::vector<Thread> threads;
  const std::regex id("\"thread_id\":\"([^\"]*)\""), size("\"size\":([0-9]+)"),
      terms("\"top_terms\":\\[([^\\]]*)\\]");
  for (const std::string& line : test::read_lines(dir.path("threads.jsonl"))) {
    std::smatch a, b, c;
    ASSERT_TRUE(std::regex_search(line, a, id) && std::regex_search(line, b, size) &&
                std::regex_search(line, c, terms));
    Thread t{a[1], std::stol(b[1]), {}};
    const std::string list = c[1];
    const std::regex word("\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(list.begin(), list.end(), word); it != std::sregex_iterator(); ++it)
      t.terms.push_back((*it)[1]);
    threads.push_back(t);
  }
  std::stable_sort(threads.begin(), threads.end(),
                   [](const Thread& a, const Thread& b) { return a.size > b.size; });
  ASSERT_GE(threads.size(), 9u);
  for (std::size_t i = 0; i < 9; ++i) {
    const std::string section = thread_section(dom, threads[i].id);
    ASSERT_FALSE(section.empty()) << threads[i].id;
    const std::string heading = text_of(section.substr(0, section.find("</h3>")));
    for (std::size_t k = 0; k < 3; ++k)
      EXPECT_NE(heading.find(threads[i].terms[k]), std::string::npos) << heading;
  }
  // The filter (here from the address, ?q=, as a shared link gives it): only the threads that hold the word
  // stay visible.
  const std::string filtered = dump_dom(dir.path("report.html") + "?q=haiti");
  std::size_t visible = 0, hidden = 0;
  for (std::size_t at = filtered.find("<section class=\"thread"); at != std::string::npos;
       at = filtered.find("<section class=\"thread", at + 1)) {
    const std::string section = filtered.substr(at, filtered.find("</section>", at) - at);
    if (section.rfind("<section class=\"thread hidden\"", 0) == 0) {
      ++hidden;
    } else {
      ++visible;
      EXPECT_NE(text_of(section).find("aiti"), std::string::npos) << text_of(section).substr(0, 300);
    }
  }
  EXPECT_GT(visible, 0u);
  EXPECT_GT(hidden, visible);
  // Duplicate groups: the largest lists its copies, each with a similarity.
  const std::size_t group = dom.find("<details class=\"dup-group\"");
  ASSERT_NE(group, std::string::npos);
  const std::string first = dom.substr(group, dom.find("</details>", group) - group);
  EXPECT_NE(first.find("<tr class=\"copy\">"), std::string::npos);
  EXPECT_TRUE(std::regex_search(first, std::regex("<td class=\"n\">(0\\.[0-9]{3}|1\\.000)</td>")));
  // The figures: documents, rejected lines by reason (timeline17 has records without text), gold scores.
  const std::string figures = text_of(dom.substr(dom.find("id=\"figures\""), 20000));
  EXPECT_NE(figures.find("documents"), std::string::npos);
  EXPECT_NE(figures.find("threads against gold \"label\" B-cubed"), std::string::npos) << figures;
  EXPECT_NE(figures.find("time: threads"), std::string::npos);
}

// serve's live page, behind a token (writes need it, reads do not): the seeds' thread with both stories,
// the newest stories, a document lookup, as Chromium loads it from the server.
TEST(LivePage, ShowsTheFeedBehindATokenAndLooksUpADocument) {
  TempDir dir;
  test::write_file(dir.path("token"), "secret\n");
  test::ServerProcess server(dir.path("state.db"), dir.path("log"), "--token-file " + dir.path("token"));
  ASSERT_GT(server.port(), 0) << test::read_file(dir.path("log"));
  auto c = server.client();
  const httplib::Headers auth = {{"Authorization", "Bearer secret"}};
  for (const std::string& line :
       test::read_lines(std::string(STORYLINE_SOURCE_DIR) + "/datasets/seeds.jsonl")) {
    const auto r = c.Post("/v1/documents", auth, line, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }
  const auto page = c.Get("/");  // no token
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page->body.find("http"), std::string::npos) << "no external asset";

  const std::string dom = dump_dom("http://127.0.0.1:" + std::to_string(server.port()) + "/");
  const std::string section = thread_section(dom, "t1");
  ASSERT_FALSE(section.empty()) << dom.substr(0, 3000);
  const std::string text = text_of(section);
  EXPECT_LT(text.find("2018-07-11"), text.find("2025-11-01")) << text;
  EXPECT_NE(text.find("2025-11-01"), std::string::npos) << text;
  EXPECT_NE(dom.find("id=\"newest\""), std::string::npos);
  EXPECT_NE(dom.find("<svg id=\"timeline\""), std::string::npos);

  const std::string lookup =
      dump_dom("http://127.0.0.1:" + std::to_string(server.port()) + "/?doc=003_1c0d7b70b0890d6f");
  const std::size_t table = lookup.find("<table id=\"lookup-result\">");
  ASSERT_NE(table, std::string::npos) << lookup.substr(0, 3000);
  const std::string result = text_of(lookup.substr(table, lookup.find("</table>", table) - table));
  EXPECT_NE(result.find("story s2"), std::string::npos) << result;
  EXPECT_NE(result.find("thread t1"), std::string::npos) << result;
  const std::string missing = dump_dom("http://127.0.0.1:" + std::to_string(server.port()) + "/?doc=nope");
  EXPECT_NE(missing.find("No document with this id."), std::string::npos);
}

// The page answers while documents are being added.
TEST(LivePage, AnswersWhileDocumentsAreAdded) {
  TempDir dir;
  test::ServerProcess server(dir.path("state.db"), dir.path("log"));
  ASSERT_GT(server.port(), 0) << test::read_file(dir.path("log"));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    auto c = server.client();
    for (int i = 0; i < 300; ++i) {
      const auto r = c.Post("/v1/documents",
                            test::record("d" + std::to_string(i), test::random_text(i % 40, 120),
                                         "2024-05-0" + std::to_string(1 + i % 9)),
                            "application/json");
      if (!r || r->status >= 300) ADD_FAILURE() << "POST " << i << (r ? r->body : " no answer");
    }
    done = true;
  });
  auto c = server.client();
  int pages = 0;
  while (!done) {
    const auto r = c.Get("/");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    EXPECT_NE(r->body.find("</html>"), std::string::npos);
    ++pages;
  }
  writer.join();
  EXPECT_GT(pages, 0);
  const auto last = c.Get("/");
  ASSERT_TRUE(last);
  EXPECT_NE(last->body.find("300 documents"), std::string::npos) << last->body.substr(0, 2000);
}

}  // namespace
}  // namespace storyline
