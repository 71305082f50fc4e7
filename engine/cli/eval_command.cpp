#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "cli/commands.hpp"
#include "cli/ingest_options.hpp"
#include "storyline/error.hpp"
#include "storyline/jsonl.hpp"
#include "storyline/metrics.hpp"
#include "storyline/text.hpp"

namespace storyline::cli {
namespace {

struct EvalCli {
  std::string gold, pred, pairs, docs;
  std::uint32_t ngram = ShingleParams{}.size;
  std::string shingle = "word";
  std::string gold_field = "label", pred_field = "dup_group", id_field = "id";
  bool json = false;
};

struct PairCounts {
  std::uint64_t pairs = 0, same = 0;
  double jaccard_sum = 0, jaccard_min = 1, jaccard_max = 0, containment_sum = 0;
};

// Sorted shingle sets of the documents of a JSONL file, by id.
std::unordered_map<std::string, std::vector<std::uint64_t>> shingle_sets(const EvalCli& o) {
  std::unordered_map<std::string, std::vector<std::uint64_t>> sets;
  Shingler shingler(ShingleParams{o.shingle == "char" ? ShingleKind::kChar : ShingleKind::kWord, o.ngram, 0});
  RecordParser parser;
  ParsedRecord record;
  LineReader reader(o.docs, IngestParams{}.max_line_bytes);
  std::string line;
  for (LineStatus s; (s = reader.next(line)) != LineStatus::kEnd;) {
    if (s != LineStatus::kLine) continue;
    parser.parse(line, record);
    if (record.rejected) continue;
    auto& set = sets[record.doc.id];
    shingler.shingle(record.doc.text, set);
    to_set(set);
  }
  return sets;
}

// |A n B| / |A|: how much of the copy comes from the source.
double containment(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  if (a.empty()) return 0.0;
  const double j = jaccard(a, b);
  // From J = i / (|A| + |B| - i): i = J (|A| + |B|) / (1 + J).
  return j * static_cast<double>(a.size() + b.size()) / (1.0 + j) / static_cast<double>(a.size());
}

// Dense integer labels from strings.
class LabelIds {
 public:
  std::uint32_t get(const std::string& label) {
    return ids_.try_emplace(label, static_cast<std::uint32_t>(ids_.size())).first->second;
  }
  std::uint32_t fresh() { return static_cast<std::uint32_t>(ids_.size() + extra_++); }

 private:
  std::unordered_map<std::string, std::uint32_t> ids_;
  std::uint32_t extra_ = 0;
};

// Hardening #20: nothing to score is an error, never a perfect score.
void require_labels(const LabeledIds& labels, const std::string& path, const std::string& field) {
  if (labels.ids.empty()) {
    throw ParseError(path + ": no record has an id and a '" + field + "': there is nothing to score");
  }
}

// A repeated id in the prediction would score only one of its labels: refused, naming both lines.
void refuse_repeated_ids(const LabeledIds& labels, const std::string& path) {
  std::unordered_map<std::string_view, std::size_t> first;
  first.reserve(labels.ids.size());
  for (std::size_t i = 0; i < labels.ids.size(); ++i) {
    const auto [it, fresh] = first.emplace(labels.ids[i], i);
    if (!fresh) {
      throw ParseError(path + ":" + std::to_string(labels.lines[i]) + ": id '" + labels.ids[i] +
                       "' was already labelled at line " + std::to_string(labels.lines[it->second]));
    }
  }
}

int eval_clusters(const EvalCli& o) {
  const LabeledIds gold = read_labels(o.gold, o.id_field, o.gold_field);
  const LabeledIds pred = read_labels(o.pred, o.id_field, o.pred_field);
  require_labels(gold, o.gold, o.gold_field);
  require_labels(pred, o.pred, o.pred_field);
  refuse_repeated_ids(pred, o.pred);
  std::unordered_map<std::string, std::size_t> gold_index;
  gold_index.reserve(gold.ids.size());
  std::uint64_t duplicate_gold_ids = 0;
  for (std::size_t i = 0; i < gold.ids.size(); ++i)
    duplicate_gold_ids += !gold_index.emplace(gold.ids[i], i).second;
  LabelIds gold_labels, pred_labels;
  std::vector<std::uint32_t> g(gold.ids.size()), p(gold.ids.size(), UINT32_MAX);
  for (std::size_t i = 0; i < gold.ids.size(); ++i) g[i] = gold_labels.get(gold.labels[i]);
  std::uint64_t extra = 0;
  for (std::size_t i = 0; i < pred.ids.size(); ++i) {
    const auto it = gold_index.find(pred.ids[i]);
    if (it == gold_index.end()) {
      ++extra;
      continue;
    }
    p[it->second] = pred_labels.get(pred.labels[i]);
  }
  std::uint64_t missing = 0;
  for (auto& label : p) {
    if (label == UINT32_MAX) label = pred_labels.fresh(), ++missing;  // unpredicted: a cluster of its own
  }
  const ClusteringScores s = score_clustering(g, p);
  if (o.json) {
    std::printf(
        "{\"documents\":%llu,\"gold_clusters\":%llu,\"pred_clusters\":%llu,\"missing_from_pred\":%llu,"
        "\"pairwise\":{\"precision\":%.4f,\"recall\":%.4f,\"f1\":%.4f},"
        "\"bcubed\":{\"precision\":%.4f,\"recall\":%.4f,\"f1\":%.4f},\"ari\":%.4f,\"nmi\":%.4f,"
        "\"homogeneity\":%.4f,\"completeness\":%.4f,\"v_measure\":%.4f}\n",
        static_cast<unsigned long long>(s.documents), static_cast<unsigned long long>(s.gold_clusters),
        static_cast<unsigned long long>(s.pred_clusters), static_cast<unsigned long long>(missing),
        s.pairwise_precision, s.pairwise_recall, s.pairwise_f1, s.bcubed_precision, s.bcubed_recall,
        s.bcubed_f1, s.ari, s.nmi, s.homogeneity, s.completeness, s.v_measure);
  } else {
    std::printf("documents %s, gold clusters %s, predicted clusters %s\n", with_commas(s.documents).c_str(),
                with_commas(s.gold_clusters).c_str(), with_commas(s.pred_clusters).c_str());
    std::printf("%-10s %9s %9s %9s\n", "metric", "precision", "recall", "f1");
    std::printf("%-10s %9.4f %9.4f %9.4f\n", "pairwise", s.pairwise_precision, s.pairwise_recall,
                s.pairwise_f1);
    std::printf("%-10s %9.4f %9.4f %9.4f\n", "b-cubed", s.bcubed_precision, s.bcubed_recall, s.bcubed_f1);
    std::printf("ARI %.4f  NMI %.4f  homogeneity %.4f  completeness %.4f  V-measure %.4f\n", s.ari, s.nmi,
                s.homogeneity, s.completeness, s.v_measure);
  }
  if (missing > 0)
    std::fprintf(stderr, "warning: %llu gold documents are not in %s (scored as singletons)\n",
                 static_cast<unsigned long long>(missing), o.pred.c_str());
  if (extra > 0)
    std::fprintf(stderr, "note: %llu predicted documents are not in the gold file (ignored)\n",
                 static_cast<unsigned long long>(extra));
  if (gold.unlabeled > 0)
    std::fprintf(stderr, "note: %llu gold records have no '%s' (ignored)\n",
                 static_cast<unsigned long long>(gold.unlabeled), o.gold_field.c_str());
  if (duplicate_gold_ids > 0)
    std::fprintf(stderr, "warning: %llu repeated ids in the gold file\n",
                 static_cast<unsigned long long>(duplicate_gold_ids));
  return 0;
}

// Pair judgements: {"id1","id2","label" (1 = same), "category"}; a pair is predicted same when both ids
// carry the same predicted label.
int eval_pairs(const EvalCli& o) {
  const LabeledIds pred = read_labels(o.pred, o.id_field, o.pred_field);
  require_labels(pred, o.pred, o.pred_field);
  refuse_repeated_ids(pred, o.pred);
  std::unordered_map<std::string, std::string> label_of;
  for (std::size_t i = 0; i < pred.ids.size(); ++i) label_of.emplace(pred.ids[i], pred.labels[i]);
  const LabeledIds first = read_labels(o.pairs, "id1", "label");
  const LabeledIds second = read_labels(o.pairs, "id2", "label");
  const LabeledIds category = read_labels(o.pairs, "id1", "category");
  require_labels(first, o.pairs, "label");
  std::map<std::string, PairCounts> by_category;
  const auto sets =
      o.docs.empty() ? std::unordered_map<std::string, std::vector<std::uint64_t>>{} : shingle_sets(o);
  std::uint64_t tp = 0, fp = 0, fn = 0, missing = 0;
  for (std::size_t i = 0; i < first.ids.size(); ++i) {
    const auto a = label_of.find(first.ids[i]), b = label_of.find(second.ids[i]);
    if (a == label_of.end() || b == label_of.end()) {
      ++missing;
      continue;
    }
    const bool same = a->second == b->second;
    const std::string& gold_label = first.labels[i];
    if (gold_label != "0" && gold_label != "1" && gold_label != "false" && gold_label != "true") {
      throw ParseError(o.pairs + ":" + std::to_string(first.lines[i]) + ": label " + gold_label +
                       " is not 0, 1, false or true");
    }
    const bool gold_same = gold_label == "1" || gold_label == "true";
    tp += same && gold_same;
    fp += same && !gold_same;
    fn += !same && gold_same;
    const bool named = category.labels.size() == first.labels.size();
    PairCounts& c = by_category[named ? category.labels[i] : "label=" + first.labels[i]];
    ++c.pairs;
    c.same += same;
    const auto sa = sets.find(first.ids[i]), sb = sets.find(second.ids[i]);
    if (sa != sets.end() && sb != sets.end()) {
      const double j = jaccard(sa->second, sb->second);
      c.jaccard_sum += j;
      c.jaccard_min = std::min(c.jaccard_min, j);
      c.jaccard_max = std::max(c.jaccard_max, j);
      c.containment_sum += containment(sa->second, sb->second);
    }
  }
  if (missing == first.ids.size()) {
    throw ParseError(o.pairs + ": no pair has both documents in " + o.pred + ": there is nothing to score");
  }
  const double precision = tp + fp > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 1.0;
  const double recall = tp + fn > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 1.0;
  if (o.json) {
    std::printf("{\"precision\":%.4f,\"recall\":%.4f,\"f1\":%.4f,\"missing\":%llu,\"categories\":{",
                precision, recall, f1_score(precision, recall), static_cast<unsigned long long>(missing));
    bool first_entry = true;
    for (const auto& [name, c] : by_category) {
      std::printf("%s\"%s\":{\"pairs\":%llu,\"same\":%llu}", first_entry ? "" : ",", name.c_str(),
                  static_cast<unsigned long long>(c.pairs), static_cast<unsigned long long>(c.same));
      first_entry = false;
    }
    std::printf("}}\n");
  } else {
    std::printf("%-10s %6s %6s %8s", "category", "pairs", "same", "share");
    if (!sets.empty()) std::printf(" %9s %9s %9s %12s", "jaccard", "min", "max", "containment");
    std::printf("\n");
    for (const auto& [name, c] : by_category) {
      std::printf("%-10s %6llu %6llu %8.3f", name.c_str(), static_cast<unsigned long long>(c.pairs),
                  static_cast<unsigned long long>(c.same),
                  c.pairs ? static_cast<double>(c.same) / c.pairs : 0.0);
      if (!sets.empty() && c.pairs > 0) {
        std::printf(" %9.3f %9.3f %9.3f %12.3f", c.jaccard_sum / c.pairs, c.jaccard_min, c.jaccard_max,
                    c.containment_sum / c.pairs);
      }
      std::printf("\n");
    }
    std::printf("pairs judged same: precision %.4f recall %.4f f1 %.4f\n", precision, recall,
                f1_score(precision, recall));
  }
  if (missing > 0)
    std::fprintf(stderr, "warning: %llu pairs name a document missing from %s\n",
                 static_cast<unsigned long long>(missing), o.pred.c_str());
  return 0;
}

}  // namespace

std::function<int()> register_eval(CLI::App& app) {
  auto o = std::make_shared<EvalCli>();
  CLI::App* c = app.add_subcommand("eval", "score predicted groups against gold labels or gold pairs");
  auto* gold = c->add_option("--gold", o->gold, "JSONL with the gold label of each id");
  auto* pairs = c->add_option("--pairs", o->pairs, "JSONL of gold pairs {id1, id2, label, category}");
  gold->excludes(pairs);
  c->add_option("--pred", o->pred, "JSONL with the predicted label of each id (e.g. dedup --annotate)")
      ->required();
  c->add_option("--gold-field", o->gold_field, "gold label field")->capture_default_str();
  c->add_option("--pred-field", o->pred_field, "predicted label field")->capture_default_str();
  c->add_option("--id-field", o->id_field, "id field of both files")->capture_default_str();
  c->add_option("--docs", o->docs, "with --pairs: the documents, to print each category's exact Jaccard");
  c->add_option("--ngram", o->ngram, "with --docs: words (or characters) per shingle")->capture_default_str();
  c->add_option("--shingle", o->shingle, "with --docs: word or char shingles")
      ->capture_default_str()
      ->check(CLI::IsMember({"word", "char"}));
  c->add_flag("--json", o->json, "print JSON instead of a table");
  return [o] {
    if (o->pairs.empty() && o->gold.empty()) throw InvalidArgument("eval needs --gold or --pairs");
    return o->pairs.empty() ? eval_clusters(*o) : eval_pairs(*o);
  };
}

}  // namespace storyline::cli
