#include "dist/layout.hpp"

#include <algorithm>

namespace storyline::dist {

Layout::Layout(const std::vector<std::vector<Segment>>& index, const std::vector<std::uint64_t>& fresh) {
  for (const auto& segments : index) {
    for (const Segment& s : segments) prior_ += s.count;
  }
  std::uint64_t next = prior_;
  for (std::size_t r = 0; r < fresh.size(); ++r) {
    std::size_t local = 0;
    if (r < index.size()) {
      for (const Segment& s : index[r]) {
        runs_.push_back(Placed{s.begin, s.count, r, local});
        local += s.count;
      }
    }
    if (fresh[r] > 0) runs_.push_back(Placed{next, fresh[r], r, local});
    next += fresh[r];
  }
  total_ = next;
  std::sort(runs_.begin(), runs_.end(), [](const Placed& a, const Placed& b) { return a.begin < b.begin; });
}

const Placed& Layout::placed(std::uint64_t doc) const {
  return *(std::upper_bound(runs_.begin(), runs_.end(), doc,
                            [](std::uint64_t d, const Placed& p) { return d < p.begin; }) -
           1);
}

std::vector<std::uint64_t> Layout::globals(std::size_t rank) const {
  std::vector<std::uint64_t> out;
  for (const Placed& p : runs_) {
    if (p.rank != rank) continue;
    if (out.size() < p.local + p.count) out.resize(p.local + p.count);
    for (std::uint64_t k = 0; k < p.count; ++k) out[p.local + k] = p.begin + k;
  }
  return out;
}

}  // namespace storyline::dist
