// Near-duplicate groups of documents spread over the ranks of an MPI job: LSH table by table, each key
// on the rank that owns it; components by hook-and-jump; a representative per group chosen as one
// process chooses it. Shared by the distributed dedup and cluster jobs.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "dist/comm.hpp"
#include "dist/layout.hpp"
#include "storyline/fingerprint.hpp"

namespace storyline::detail {
class CorpusSink;
}

namespace storyline::dist {

/// Figures of the grouping, this rank's (summed by the caller).
struct GroupCounts {
  std::uint64_t candidate_pairs = 0;   ///< pairs verified
  std::uint64_t verified_pairs = 0;    ///< of them, duplicates
  std::uint64_t component_rounds = 0;  ///< hook-and-jump rounds (the same on every rank)
  std::uint64_t groups = 0;            ///< groups of two or more whose root is here
};

/// The groups of the documents the ranks hold (docs: this rank's, numbered globally by global; the
/// layout says where every document is). Every call is collective. Not thread-safe.
class DistGroups {
 public:
  DistGroups(Comm& comm, const Layout& layout, const FingerprintScheme& scheme,
             const detail::CorpusSink& docs, const std::vector<std::uint64_t>& global);

  /// Finds the components, table by table, as find_duplicate_groups does; progress() after each table.
  void group(GroupCounts& counts, const std::function<void()>& progress);
  /// The representative of each group (its index document, else the longest complete text, the
  /// earliest date, the smallest id) and every member's similarity to it. Returns the local documents
  /// of groups of two or more, ascending.
  std::vector<std::size_t> choose_representatives(GroupCounts& counts);

  /// Per local document: its component's root, its representative (global numbers), its similarity to
  /// the representative; the ids of the representatives of local documents.
  const std::vector<std::uint64_t>& label() const { return label_; }
  const std::vector<std::uint64_t>& rep() const { return rep_; }
  const std::vector<float>& similarity() const { return similarity_; }
  const std::unordered_map<std::uint64_t, std::string>& rep_ids() const { return rep_ids_; }

  // Asks the home rank of each document about it: answer(local index, Packer&) writes the reply there,
  // read(i, Unpacker&) takes the reply to docs[i] here.
  template <class Answer, class Read>
  void ask_each(const std::vector<std::uint64_t>& docs, Answer&& answer, Read&& read) {
    std::vector<std::string> requests(ranks_);
    std::vector<std::vector<std::size_t>> order(ranks_);
    for (std::size_t i = 0; i < docs.size(); ++i) {
      const auto r = static_cast<std::size_t>(layout_.home(docs[i]));
      Packer(requests[r]).put(docs[i]);
      order[r].push_back(i);
    }
    const auto asked = comm_.exchange(std::move(requests));
    std::vector<std::string> replies(ranks_);
    for (std::size_t r = 0; r < ranks_; ++r) {
      Unpacker in(asked[r]);
      Packer reply(replies[r]);
      while (!in.done()) answer(layout_.local_of(in.get<std::uint64_t>()), reply);
    }
    const auto answered = comm_.exchange(std::move(replies));
    for (std::size_t r = 0; r < ranks_; ++r) {
      Unpacker in(answered[r]);
      for (const std::size_t i : order[r]) read(i, in);
    }
  }

  // The same with `width` values of T per document.
  template <class T, class Answer>
  std::vector<T> ask(const std::vector<std::uint64_t>& docs, std::size_t width, Answer&& answer) {
    std::vector<T> value(width), out(docs.size() * width);
    ask_each(
        docs,
        [&](std::size_t local, Packer& reply) {
          answer(local, value.data());
          reply.put_span(value.data(), width);
        },
        [&](std::size_t i, Unpacker& in) { in.get_span(out.data() + i * width, width); });
    return out;
  }

 private:
  std::span<const std::uint32_t> fingerprint(std::size_t local) const;
  std::vector<std::vector<std::uint64_t>> sets_of(const std::vector<std::uint64_t>& docs);
  bool exact() const;
  double similarity(std::span<const std::uint32_t> print_a, std::span<const std::uint32_t> print_b,
                    const std::vector<std::uint64_t>* set_a, const std::vector<std::uint64_t>* set_b) const;
  bool duplicate(std::span<const std::uint32_t> print_a, std::span<const std::uint32_t> print_b,
                 const std::vector<std::uint64_t>* set_a, const std::vector<std::uint64_t>* set_b) const;
  std::vector<std::uint32_t> fingerprints_of(const std::vector<std::uint64_t>& docs);
  std::vector<std::uint64_t> labels_of(const std::vector<std::uint64_t>& docs);
  std::uint64_t link(std::vector<std::pair<std::uint64_t, std::uint64_t>> links);
  std::uint64_t merge_components(std::vector<std::pair<std::uint64_t, std::uint64_t>> links,
                                 std::vector<std::size_t>& hooked);
  void join_prior(std::vector<std::pair<std::uint64_t, std::uint64_t>> to_prior,
                  std::vector<std::size_t>& hooked);
  void jump(const std::vector<std::size_t>& hooked);

  Comm& comm_;
  const Layout& layout_;
  const FingerprintScheme* scheme_;
  const detail::CorpusSink* docs_;
  const std::vector<std::uint64_t>& global_;
  std::size_t ranks_;
  std::size_t n_;
  std::vector<std::uint64_t> label_;
  std::vector<std::uint64_t> rep_;
  std::vector<float> similarity_;
  std::unordered_map<std::uint64_t, std::string> rep_ids_;
};

}  // namespace storyline::dist
