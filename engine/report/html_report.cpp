#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "storyline/document.hpp"
#include "storyline/report.hpp"

namespace storyline {
namespace {

void escape(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\n':
      case '\r':
      case '\t':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
}

std::string date_text(std::int32_t days) {
  return days == kNoDate ? std::string("undated") : format_date(days);
}

std::string span_text(std::int32_t first, std::int32_t last) {
  if (first == kNoDate) return "undated";
  return first == last ? format_date(first) : format_date(first) + " to " + format_date(last);
}

void join(std::string& out, const std::vector<std::string>& words, std::size_t most) {
  for (std::size_t i = 0; i < std::min(most, words.size()); ++i) {
    if (i > 0) out += ", ";
    escape(out, words[i]);
  }
}

std::string documents(std::size_t n) { return group_digits(n) + (n == 1 ? " document" : " documents"); }

// Fractional year of a date, for the timeline's axis.
double year_of(std::int32_t days) { return 1970.0 + days / 365.2425; }

constexpr std::string_view kStyle = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #eee}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.thread{margin:12px 0;padding:6px 10px;border-left:4px solid #4a7bb7;background:#f7f9fc}
.thread h3{margin:4px 0;font-size:15px}.terms{color:#555}.story{margin:6px 0}
.date{font-variant-numeric:tabular-nums;color:#333;white-space:nowrap}
svg text{font:11px system-ui,sans-serif}svg a circle{fill:#4a7bb7;fill-opacity:.6;stroke:#234}
svg a:hover circle{fill:#d9822b}#search{width:320px;padding:4px}.hidden{display:none}
)";

constexpr std::string_view kScript = R"(
function filterThreads(q){q=q.toLowerCase();
for(const s of document.querySelectorAll('.thread'))s.classList.toggle('hidden',q&&!s.textContent.toLowerCase().includes(q));}
function openStory(id){const d=document.getElementById(id);if(d){d.open=true;}}
addEventListener('DOMContentLoaded',()=>{const q=new URLSearchParams(location.search).get('q');
if(q){document.getElementById('search').value=q;filterThreads(q);}});
)";

void timeline(std::string& out, const ReportData& data) {
  std::int32_t lo = INT32_MAX, hi = INT32_MIN;
  for (const ReportThread& t : data.threads) {
    for (const ReportStory& s : t.stories) {
      if (s.first == kNoDate) continue;
      lo = std::min(lo, s.first), hi = std::max(hi, s.last);
    }
  }
  if (lo > hi) {
    out += "<p>No dated stories: no timeline.</p>\n";
    return;
  }
  const int first_year = static_cast<int>(std::floor(year_of(lo)));
  const int last_year = static_cast<int>(std::floor(year_of(hi))) + 1;
  constexpr int kLeft = 260, kWidth = 1160, kRow = 22, kTop = 24;
  const std::size_t rows = data.threads.size();
  const auto x_of = [&](double year) {
    return kLeft + (year - first_year) / std::max(1, last_year - first_year) * (kWidth - kLeft - 10);
  };
  char buf[256];
  std::snprintf(buf, sizeof buf, "<svg id=\"timeline\" width=\"%d\" height=\"%zu\" role=\"img\">\n", kWidth,
                kTop + rows * kRow + 10);
  out += buf;
  const int step = std::max(1, (last_year - first_year) / 12);
  for (int y = first_year; y <= last_year; y += step) {
    const double x = x_of(y);
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"16\" y2=\"%zu\" stroke=\"#ddd\"/><text class=\"year\" "
                  "x=\"%.1f\" y=\"12\" text-anchor=\"middle\">%d</text>\n",
                  x, x, kTop + rows * kRow, x, y);
    out += buf;
  }
  std::size_t largest = 1;
  for (const ReportThread& t : data.threads)
    for (const ReportStory& s : t.stories) largest = std::max(largest, s.size);
  for (std::size_t r = 0; r < rows; ++r) {
    const ReportThread& t = data.threads[r];
    const double y = kTop + r * kRow + kRow / 2.0;
    std::snprintf(buf, sizeof buf, "<a href=\"#%s\"><text x=\"4\" y=\"%.1f\">", t.id.c_str(), y + 4);
    out += buf;
    escape(out, t.id);
    out += " · ";
    std::string label;
    join(label, t.terms, 3);
    out += label.size() > 40 ? label.substr(0, 40) : label;  // escaped already; cut at a word is fine
    out += "</text></a>\n";
    for (const ReportStory& s : t.stories) {
      if (s.first == kNoDate) continue;
      const double x = x_of(year_of(s.first + (s.last - s.first) / 2));
      const double radius = 2.5 + 7.5 * std::sqrt(static_cast<double>(s.size) / static_cast<double>(largest));
      std::snprintf(buf, sizeof buf,
                    "<a href=\"#%s\" onclick=\"openStory('%s')\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\">"
                    "<title>",
                    s.id.c_str(), s.id.c_str(), x, y, radius);
      out += buf;
      escape(out, s.headline);
      out += " (" + span_text(s.first, s.last) + "; " + documents(s.size) + "; ";
      join(out, s.terms, 5);
      if (!s.entities.empty()) out += "; ";
      join(out, s.entities, 4);
      out += ")</title></circle></a>\n";
    }
  }
  out += "</svg>\n";
}

// A table of (label, value) rows; cell_attributes go on each value cell.
void label_table(std::string& out, const char* id, const char* cell_attributes,
                 const std::vector<std::pair<std::string, std::string>>& rows) {
  out += std::string("<table id=\"") + id + "\">\n";
  for (const auto& [label, value] : rows) {
    out += "<tr><th>";
    escape(out, label);
    out += std::string("</th><td") + cell_attributes + ">";
    escape(out, value);
    out += "</td></tr>\n";
  }
  out += "</table>\n";
}

void story_html(std::string& out, const ReportStory& s) {
  out += "<details class=\"story\" id=\"" + s.id + "\"><summary><span class=\"date\">" +
         span_text(s.first, s.last) + "</span> <b class=\"headline\">";
  escape(out, s.headline.empty() ? s.id : s.headline);
  out += "</b> <span class=\"terms\">(" + s.id + ", " + documents(s.size) + ": ";
  join(out, s.terms, 6);
  out += ")</span></summary>\n<p class=\"terms\">Entities: ";
  join(out, s.entities, 6);
  out += "</p><ul>\n";
  for (const ReportDocument& d : s.documents) {
    out += "<li><span class=\"date\">" + date_text(d.date) + "</span> ";
    escape(out, d.title.empty() ? d.id : d.title);
    out += " <small>";
    escape(out, d.id);
    out += "</small></li>\n";
  }
  if (s.documents.size() < s.size)
    out += "<li>… and " + group_digits(s.size - s.documents.size()) + " more</li>\n";
  out += "</ul></details>\n";
}

}  // namespace

std::string group_digits(std::uint64_t value) {
  std::string digits = std::to_string(value), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string render_html_report(const ReportData& data) {
  std::string out;
  out.reserve(1 << 20);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>";
  escape(out, data.title);
  out += "</title>\n<style>";
  out += kStyle;
  out += "</style>\n<script>";
  out += kScript;
  out += "</script></head><body>\n<h1>";
  escape(out, data.title);
  out += "</h1>\n<p><a href=\"#timeline-section\">Timeline</a> · <a href=\"#threads\">Threads</a> · ";
  if (data.total_duplicate_groups > 0) out += "<a href=\"#duplicates\">Duplicate groups</a> · ";
  out += "<a href=\"#figures\">Figures</a></p>\n<p class=\"summary\">";
  escape(out, data.summary);
  out += "</p>\n";

  if (!data.lookup_action.empty()) {
    out += "<h2 id=\"lookup\">Look up a document</h2>\n<form method=\"get\" action=\"";
    escape(out, data.lookup_action);
    out += "\"><input name=\"doc\" id=\"doc\" placeholder=\"document id\" value=\"";
    escape(out, data.lookup_query);
    out += "\"> <button>Look up</button></form>\n";
    if (!data.lookup_message.empty()) {
      out += "<p id=\"lookup-message\">";
      escape(out, data.lookup_message);
      out += "</p>\n";
    }
    if (!data.lookup.empty()) {
      label_table(out, "lookup-result", "", data.lookup);
    }
  }
  if (!data.newest.empty()) {
    out += "<h2 id=\"newest\">Newest stories</h2>\n";
    for (const ReportStory& s : data.newest) story_html(out, s);
  }
  out += "<h2 id=\"timeline-section\">Timeline of threads</h2>\n<p>One row per thread (the " +
         group_digits(data.threads.size()) + " largest of " + group_digits(data.total_threads) +
         "); each mark is a story at its middle date, sized by its documents. Hover for its headline, "
         "click for its documents.</p>\n";
  timeline(out, data);

  out +=
      "<h2 id=\"threads\">Threads</h2>\n<p><input id=\"search\" type=\"search\" placeholder=\"Filter "
      "threads by a word (headline, term, entity)\" oninput=\"filterThreads(this.value)\"></p>\n";
  for (const ReportThread& t : data.threads) {
    out += "<section class=\"thread\" id=\"" + t.id + "\"><h3>" + t.id + ": ";
    join(out, t.terms, 8);
    out += "</h3>\n<p class=\"terms\">" + documents(t.size) + " in " + group_digits(t.total_stories) +
           (t.total_stories == 1 ? " story" : " stories") +
           (t.stories.size() < t.total_stories ? " (" + group_digits(t.stories.size()) + " shown)" : "") +
           ", " + span_text(t.first, t.last) + ". Entities: ";
    join(out, t.entities, 6);
    out += "</p>\n";
    for (const ReportStory& s : t.stories) story_html(out, s);
    out += "</section>\n";
  }

  if (data.total_duplicate_groups > 0)
    out += "<h2 id=\"duplicates\">Duplicate groups</h2>\n<p>The " + group_digits(data.duplicates.size()) +
           " largest of " + group_digits(data.total_duplicate_groups) +
           " groups: the representative (kept) and its copies, with their similarity to it.</p>\n";
  for (const ReportDuplicateGroup& g : data.duplicates) {
    out += "<details class=\"dup-group\"><summary><b>";
    escape(out, g.representative.title.empty() ? g.representative.id : g.representative.title);
    out += "</b> <small>";
    escape(out, g.representative.id);
    out += "</small>: " + documents(g.size) + "</summary>\n<table>\n";
    for (const ReportDocument& d : g.copies) {
      char sim[32];
      std::snprintf(sim, sizeof sim, "%.3f", static_cast<double>(d.similarity));
      out += "<tr class=\"copy\"><td class=\"n\">";
      out += sim;
      out += "</td><td class=\"date\">" + date_text(d.date) + "</td><td>";
      escape(out, d.id);
      out += "</td><td>";
      escape(out, d.title);
      out += "</td></tr>\n";
    }
    if (g.copies.size() + 1 < g.size)
      out += "<tr><td></td><td colspan=\"3\">… and " + group_digits(g.size - 1 - g.copies.size()) +
             " more</td></tr>\n";
    out += "</table></details>\n";
  }
  out += "<h2 id=\"figures\">Figures of the run</h2>\n";
  label_table(out, "figures-table", " class=\"n\"", data.figures);

  out += "</body></html>\n";
  return out;
}

}  // namespace storyline
