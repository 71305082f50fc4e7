#include "storyline/generator.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "detail/json_out.hpp"
#include "detail/page_furniture.hpp"
#include "storyline/error.hpp"
#include "storyline/ingest.hpp"
#include "storyline/jsonl.hpp"
#include "storyline/text.hpp"

namespace storyline {
namespace {

using Rng = std::mt19937_64;
constexpr std::size_t kWindow = 2000;  // originals a copy may come from
constexpr std::size_t kSites = 12;     // news sites, with reader_copies

double uniform(Rng& rng) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }
std::size_t below(Rng& rng, std::size_t n) {
  return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
}

struct Article {
  std::string id, title, date;
  std::vector<std::string> sentences;
};

// Pseudo-words built from syllables, drawn by a Zipf law (s = 1.07) as in natural text.
class Vocabulary {
 public:
  explicit Vocabulary(Rng& rng) {
    static constexpr std::string_view kOnsets[] = {"b", "c", "d",  "f",  "g",  "h",  "j",  "k",
                                                   "l", "m", "n",  "p",  "r",  "s",  "t",  "v",
                                                   "w", "z", "br", "st", "tr", "ch", "sh", "pl"};
    static constexpr std::string_view kVowels[] = {"a", "e", "i", "o", "u", "ai", "ea", "ou", "io"};
    constexpr std::size_t kWords = 30000;
    words_.reserve(kWords);
    for (std::size_t i = 0; i < kWords; ++i) {
      std::string w;
      const std::size_t syllables = 1 + below(rng, 3) + (i > 2000 ? 1 : 0);
      for (std::size_t s = 0; s < syllables; ++s) {
        w += kOnsets[below(rng, std::size(kOnsets))];
        w += kVowels[below(rng, std::size(kVowels))];
      }
      if (uniform(rng) < 0.3) w += kOnsets[below(rng, std::size(kOnsets))];
      words_.push_back(std::move(w));
    }
    double total = 0.0;
    cdf_.reserve(kWords);
    for (std::size_t i = 0; i < kWords; ++i) cdf_.push_back(total += 1.0 / std::pow(i + 1.0, 1.07));
    for (double& c : cdf_) c /= total;
  }
  /// A word of the rare tail (rank 1,000 and beyond), uniformly: what makes an event's vocabulary.
  const std::string& rare(Rng& rng) const { return words_[1000 + below(rng, words_.size() - 1000)]; }
  const std::string& draw(Rng& rng) const {
    const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), uniform(rng));
    return words_[std::min<std::size_t>(it - cdf_.begin(), words_.size() - 1)];
  }

 private:
  std::vector<std::string> words_;
  std::vector<double> cdf_;
};

std::string sentence(const Vocabulary& vocab, Rng& rng) {
  const std::size_t words = 8 + below(rng, 18);
  std::string s;
  for (std::size_t i = 0; i < words; ++i) {
    std::string w = vocab.draw(rng);
    if (i == 0) w[0] = static_cast<char>(w[0] - 'a' + 'A');
    if (i > 0) s.push_back(' ');
    s += w;
  }
  s.push_back('.');
  return s;
}

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool end = (text[i] == '.' || text[i] == '?' || text[i] == '!') &&
                     (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n');
    if (end || text[i] == '\n') {
      std::string_view s = text.substr(start, i + 1 - start);
      while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
      while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
      if (!s.empty()) out.emplace_back(s);
      start = i + 1;
    }
  }
  std::string_view rest = text.substr(std::min(start, text.size()));
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\n')) rest.remove_prefix(1);
  if (!rest.empty()) out.emplace_back(rest);
  return out;
}

std::string join(const std::vector<std::string>& sentences) {
  std::string out;
  for (const auto& s : sentences) {
    if (!out.empty()) out.push_back(' ');
    out += s;
  }
  return out;
}

// A planted story (an event) within a planted thread (a topic). A topic has 30 rare words and two
// names that run through all its events; an event adds 10 words and a name of its own.
struct Topic {
  std::string id;
  std::vector<std::string> words, names;
};

struct Event {
  std::string id;
  const Topic* topic = nullptr;
  std::int32_t first_day = 0;
  std::vector<std::string> words, names;
};

constexpr std::size_t kActiveEvents = 32;          // events an original may join
constexpr std::uint64_t kDocumentsPerTopic = 400;  // topics scale with the corpus: same density at any size

std::string capitalised(std::string w) {
  if (!w.empty() && w[0] >= 'a' && w[0] <= 'z') w[0] = static_cast<char>(w[0] - 'a' + 'A');
  return w;
}

std::string name(const Vocabulary& vocab, Rng& rng) {
  return capitalised(vocab.rare(rng)) + " " + capitalised(vocab.rare(rng));
}

// Topics are made on first use from their own seed, so their words do not depend on the order of use.
class Topics {
 public:
  Topics(const Vocabulary& vocab, std::uint64_t seed, std::uint64_t documents)
      : vocab_(vocab), seed_(seed), count_(std::max<std::uint64_t>(8, documents / kDocumentsPerTopic)) {}
  const Topic& draw(Rng& rng) {
    const std::uint64_t t = below(rng, count_);
    auto [it, fresh] = topics_.try_emplace(t);
    if (fresh) {
      Rng topic_rng(seed_ ^ (0x70b1c5ULL + t * 0x9e3779b97f4a7c15ULL));
      it->second.id = "tp" + std::to_string(t);
      for (int i = 0; i < 30; ++i) it->second.words.push_back(vocab_.rare(topic_rng));
      for (int i = 0; i < 2; ++i) it->second.names.push_back(name(vocab_, topic_rng));
    }
    return it->second;
  }

 private:
  const Vocabulary& vocab_;
  std::uint64_t seed_, count_;
  std::unordered_map<std::uint64_t, Topic> topics_;  // node-based: references stay valid
};

Event new_event(const Vocabulary& vocab, Topics& topics, Rng& rng, std::uint64_t number, std::int32_t day) {
  Event e;
  e.id = "ev" + std::to_string(number);
  e.topic = &topics.draw(rng);
  e.first_day = day;
  for (int i = 0; i < 10; ++i) e.words.push_back(vocab.rare(rng));
  e.names = e.topic->names;
  e.names.push_back(name(vocab, rng));
  return e;
}

// One sentence of an event's article: about one word in sixteen is the event's and one in sixteen its
// topic's; a third of the sentences open with one of its names.
std::string event_sentence(const Vocabulary& vocab, const Event& e, Rng& rng) {
  const std::size_t words = 8 + below(rng, 18);
  const bool named = uniform(rng) < 0.35;
  std::string s = named ? e.names[below(rng, e.names.size())] + " said" : std::string();
  for (std::size_t i = 0; i < words; ++i) {
    const double u = uniform(rng);
    std::string w = u < 0.0625  ? e.words[below(rng, e.words.size())]
                    : u < 0.125 ? e.topic->words[below(rng, e.topic->words.size())]
                                : vocab.draw(rng);
    if (!s.empty()) s.push_back(' ');
    s += i == 0 && !named ? capitalised(std::move(w)) : w;
  }
  s.push_back('.');
  return s;
}

std::string event_title(const Vocabulary& vocab, const Event& e, Rng& rng) {
  std::string t = e.names[below(rng, e.names.size())];
  t.append(" ").append(e.words[below(rng, e.words.size())]);
  t.append(" ").append(e.topic->words[below(rng, e.topic->words.size())]);
  for (int i = 0; i < 4; ++i) t.append(" ").append(vocab.draw(rng));
  return t;
}

// The ways a syndicated copy differs from the original.
constexpr std::string_view kOutlets[] = {"Daily Ledger",    "Metro Wire",       "The Evening Post",
                                         "Coastal Times",   "National Courier", "Valley Herald",
                                         "Global Dispatch", "City Tribune"};

std::string boilerplate_head(Rng& rng) {
  return std::string("By staff writers | ") + std::string(kOutlets[below(rng, std::size(kOutlets))]) +
         " | Updated " + std::to_string(1 + below(rng, 12)) + ":" + std::to_string(10 + below(rng, 50)) +
         " GMT. Share this article on social media.";
}

std::string boilerplate_tail(Rng& rng) {
  const std::string outlet(kOutlets[below(rng, std::size(kOutlets))]);
  return "Copyright " + outlet +
         ". All rights reserved. This material may not be published, broadcast, "
         "rewritten or redistributed. Sign up for the " +
         outlet +
         " newsletter to get the top stories "
         "delivered to your inbox every morning. Related coverage: more stories from our newsroom.";
}

class CopyMaker {
 public:
  CopyMaker(const Vocabulary& vocab, double strength, bool boilerplate)
      : vocab_(vocab), strength_(strength), boilerplate_(boilerplate) {}

  // Returns the copy's sentences and a '+'-joined list of the edits applied; scale in (0, 1] softens.
  std::vector<std::string> make(const Article& original, Rng& rng, double scale, std::string& edits) {
    std::vector<std::string> s = original.sentences;
    edits.clear();
    const double k = strength_ * scale;
    const auto note = [&](std::string_view e) {
      if (!edits.empty()) edits += '+';
      edits += e;
    };
    if (s.size() > 3 && uniform(rng) < 0.4) {  // truncation: keep the first 75-100% of sentences
      const double keep = 1.0 - k * 0.25 * uniform(rng);
      s.resize(std::max<std::size_t>(
          3, static_cast<std::size_t>(std::ceil(keep * static_cast<double>(s.size())))));
      note("truncate");
    }
    if (s.size() > 3 && uniform(rng) < 0.3) {  // one or two sentences moved
      for (std::size_t m = 0, moves = 1 + below(rng, 2); m < moves; ++m) {
        const std::size_t from = below(rng, s.size()), to = below(rng, s.size());
        std::string moved = std::move(s[from]);
        s.erase(s.begin() + static_cast<std::ptrdiff_t>(from));
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(to), std::move(moved));
      }
      note("move");
    }
    if (uniform(rng) < 0.6) {  // copy edits: about 0-2% of the words replaced, dropped or added
      const double rate = k * 0.02 * uniform(rng);
      for (auto& sentence_text : s) sentence_text = edit_words(sentence_text, rate, rng);
      note("edit");
    }
    if (boilerplate_ && uniform(rng) < 0.5) {
      s.insert(s.begin(), boilerplate_head(rng));
      note("boilerplate");
    }
    if (boilerplate_ && uniform(rng) < 0.4 * std::min(1.0, k)) {
      s.push_back(boilerplate_tail(rng));
      note("footer");
    }
    if (edits.empty()) note("verbatim");
    return s;
  }

 private:
  std::string edit_words(const std::string& text, double rate, Rng& rng) {
    std::string out;
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t end = text.find(' ', start);
      if (end == std::string::npos) end = text.size();
      const std::string_view word(text.data() + start, end - start);
      const double u = uniform(rng);
      if (u < rate / 3) {
        // dropped
      } else {
        if (!out.empty()) out.push_back(' ');
        out += u < rate * 2 / 3 ? vocab_.draw(rng) : std::string(word);
        if (u > 1.0 - rate / 3) out += ' ' + vocab_.draw(rng);
      }
      start = end + 1;
    }
    return out;
  }

  const Vocabulary& vocab_;
  double strength_;
  bool boilerplate_;
};

// Reads originals from a JSONL file, skipping short texts and exact repeats.
class SourceArticles {
 public:
  explicit SourceArticles(const std::string& path) : reader_(path, std::size_t{64} << 20) {}
  bool next(Article& out, std::uint64_t number) {
    std::string line;
    ParsedRecord record;
    for (LineStatus s; (s = reader_.next(line)) != LineStatus::kEnd;) {
      if (s != LineStatus::kLine) continue;
      parser_.parse(line, record);
      if (record.rejected || record.doc.text.size() < 400) continue;
      if (!seen_.insert(std::hash<std::string>{}(record.doc.text)).second) continue;
      out.id = "src" + std::to_string(number);
      out.title = record.doc.title;
      out.sentences = split_sentences(record.doc.text);
      if (out.title.empty() && !out.sentences.empty()) out.title = out.sentences.front().substr(0, 80);
      return true;
    }
    return false;
  }

 private:
  LineReader reader_;
  RecordParser parser_;
  std::unordered_set<std::uint64_t> seen_;
};

struct WindowEntry {
  Article article;
  std::string story, thread;  // the planted event and topic, if any
  std::int32_t date = 0;
  std::vector<std::uint64_t> shingles;  // set, for the copies' Jaccard
};

std::vector<std::uint64_t> shingle_set(Shingler& shingler, const std::string& text) {
  std::vector<std::uint64_t> set;
  shingler.shingle(text, set);
  to_set(set);
  return set;
}

std::string headline(const Vocabulary& vocab, Rng& rng) {
  std::string s = sentence(vocab, rng);
  std::size_t cut = 0;
  for (int words = 0; words < 8 && cut != std::string::npos; ++words) cut = s.find(' ', cut + 1);
  s = s.substr(0, cut == std::string::npos ? s.size() : cut);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

void write_line(detail::OutputFile& out, std::string& line, const std::string& id, const std::string& title,
                const std::string& text, std::int32_t date, const std::string& label,
                const std::string& story, const std::string& thread, double jaccard,
                const std::string& edits) {
  line.assign("{\"id\":");
  detail::append_json_string(line, id);
  line += ",\"title\":";
  detail::append_json_string(line, title);
  line += ",\"text\":";
  detail::append_json_string(line, text);
  line += ",\"date\":";
  detail::append_json_string(line, format_date(date));
  line += ",\"label\":";
  detail::append_json_string(line, label);
  if (!story.empty()) {
    line += ",\"story\":";
    detail::append_json_string(line, story);
    line += ",\"thread\":";
    detail::append_json_string(line, thread);
  }
  if (!edits.empty()) {
    line += ",\"jaccard\":";
    detail::append_json_number(line, jaccard);
    line += ",\"edits\":";
    detail::append_json_string(line, edits);
  }
  line += "}\n";
  out.write(line);
}

// Headlines of three recent articles, for a page's related-links list.
std::vector<std::string> related_headlines(const std::deque<WindowEntry>& window, Rng& rng) {
  std::vector<std::string> out;
  for (int i = 0; i < 3 && !window.empty(); ++i)
    out.push_back(window[below(rng, window.size())].article.title);
  return out;
}

// A copy as a reader meets it (GeneratorParams::reader_copies): a rewrite (copy-desk edits), the
// article in another site's page furniture, a teaser (its first third to two thirds), or a teaser in
// furniture. edits names the kind.
std::vector<std::string> reader_copy(const Article& original, CopyMaker& maker,
                                     const detail::PageFurniture& furniture,
                                     const std::deque<WindowEntry>& window, Rng& rng, std::string& edits) {
  const std::size_t kind = below(rng, 4);
  std::vector<std::string> s = original.sentences;
  if (kind == 0) {
    s = maker.make(original, rng, 1.0, edits);
    edits = "rewrite:" + edits;
    return s;
  }
  if (kind >= 2) {
    const double keep = (1.0 + uniform(rng)) / 3.0;
    s.resize(
        std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(keep * static_cast<double>(s.size())))));
  }
  edits = kind == 1 ? "wrapped" : kind == 2 ? "teaser" : "wrapped-teaser";
  if (kind == 2) return s;
  return furniture.wrap(below(rng, kSites), s, related_headlines(window, rng), rng);
}

}  // namespace

GeneratorReport generate_corpus(const GeneratorParams& params, const std::string& path) {
  STORYLINE_CHECK_ARG(params.copy_fraction >= 0.0 && params.copy_fraction < 1.0,
                      "copy_fraction must be in [0, 1)");
  STORYLINE_CHECK_ARG(params.min_jaccard >= 0.0 && params.min_jaccard <= 1.0,
                      "min_jaccard must be in [0, 1]");
  STORYLINE_CHECK_ARG(params.edit_strength >= 0.0, "edit_strength must be >= 0");
  STORYLINE_CHECK_ARG(params.mean_words >= 10, "mean_words must be at least 10");
  STORYLINE_CHECK_ARG(params.event_size == 0.0 || params.event_size >= 1.0, "event_size must be 0 or >= 1");
  Rng vocab_rng(params.seed ^ 0x5eed5eedULL);
  const Vocabulary vocab(vocab_rng);
  Rng rng(params.seed);
  CopyMaker maker(vocab, params.edit_strength, !params.reader_copies);
  std::optional<detail::PageFurniture> furniture;
  if (params.reader_copies) furniture.emplace(kSites, params.seed ^ 0xf0f0f0f0ULL);
  Shingler shingler;  // the default word 5-shingles, for the planted copies' Jaccard
  std::optional<SourceArticles> source;
  if (!params.source_path.empty()) source.emplace(params.source_path);

  detail::OutputFile out(path);
  std::deque<WindowEntry> window;
  std::deque<Event> events;  // the active ones, newest last
  Topics topics(vocab, params.seed, params.documents);
  const bool plant_events = params.event_size > 0.0 && !source;
  GeneratorReport report;
  const std::int32_t first_day = *parse_date("2024-01-01");
  std::string line, edits, text;
  double jaccard_sum = 0.0;
  for (std::uint64_t i = 0; i < params.documents; ++i) {
    const std::string id = "doc" + std::to_string(i);
    const auto day =
        first_day + static_cast<std::int32_t>(i * 365 / std::max<std::uint64_t>(params.documents, 1));
    if (!window.empty() && uniform(rng) < params.copy_fraction) {
      const WindowEntry& original = window[below(rng, window.size())];
      double j = 0.0;
      std::vector<std::string> sentences;
      if (furniture) {
        sentences = reader_copy(original.article, maker, *furniture, window, rng, edits);
        text = join(sentences);
        j = jaccard(shingle_set(shingler, text), original.shingles);
      }
      for (int attempt = 0; attempt < 5 && !furniture; ++attempt) {
        sentences = maker.make(original.article, rng, std::pow(0.5, attempt), edits);
        text = join(sentences);
        j = jaccard(shingle_set(shingler, text), original.shingles);
        if (j >= params.min_jaccard) break;
        ++report.regenerated;
      }
      if (!furniture && j < params.min_jaccard) {
        text = join(original.article.sentences);
        edits = "verbatim";
        j = 1.0;
      }
      const std::string title = uniform(rng) < 0.7 ? headline(vocab, rng) : original.article.title;
      write_line(out, line, id, title, text, original.date + static_cast<std::int32_t>(below(rng, 3)),
                 original.article.id, original.story, original.thread, j, edits);
      ++report.copies;
      jaccard_sum += j;
      continue;
    }
    WindowEntry entry;
    entry.date = day;
    if (source) {
      if (!source->next(entry.article, i)) {
        if (window.empty()) break;
        --i;  // no originals left: the remaining lines are all copies
        if (params.copy_fraction == 0.0) break;
        continue;
      }
    } else {
      const Event* event = nullptr;
      if (plant_events) {
        if (events.empty() || uniform(rng) < 1.0 / params.event_size) {
          events.push_back(new_event(vocab, topics, rng, report.events++, day));
          if (events.size() > kActiveEvents) events.pop_front();
          event = &events.back();
        } else {
          event = &events[below(rng, events.size())];
        }
        entry.story = event->id;
        entry.thread = event->topic->id;
        entry.date = event->first_day + static_cast<std::int32_t>(below(rng, 3));
      }
      const std::size_t target = params.mean_words / 2 + below(rng, params.mean_words + 1);
      std::size_t words = 0;
      while (words < target) {
        entry.article.sentences.push_back(event ? event_sentence(vocab, *event, rng) : sentence(vocab, rng));
        words += static_cast<std::size_t>(std::count(entry.article.sentences.back().begin(),
                                                     entry.article.sentences.back().end(), ' ')) +
                 1;
      }
      entry.article.title = event ? event_title(vocab, *event, rng) : headline(vocab, rng);
    }
    entry.article.id = id;
    text = join(furniture && uniform(rng) < 0.5 ? furniture->wrap(below(rng, kSites), entry.article.sentences,
                                                                  related_headlines(window, rng), rng)
                                                : entry.article.sentences);
    entry.shingles = shingle_set(shingler, text);
    write_line(out, line, id, entry.article.title, text, entry.date, id, entry.story, entry.thread, 0.0, "");
    ++report.originals;
    window.push_back(std::move(entry));
    if (window.size() > kWindow) window.pop_front();
  }
  out.close();
  report.documents = report.originals + report.copies;
  report.mean_copy_jaccard = report.copies > 0 ? jaccard_sum / static_cast<double>(report.copies) : 0.0;
  return report;
}

}  // namespace storyline
