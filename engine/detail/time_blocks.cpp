#include "detail/time_blocks.hpp"

#include <algorithm>
#include <numeric>

#include "storyline/document.hpp"
#include "storyline/error.hpp"

namespace storyline::detail {

std::vector<DayRange> block_cores(std::span<const std::pair<std::int32_t, std::uint64_t>> days,
                                  std::size_t block_rows, std::int32_t window_days) {
  std::uint64_t total = 0;
  for (const auto& day : days) total += day.second;
  std::vector<DayRange> cores;
  if (block_rows == 0 || window_days < 0 || total <= block_rows) return cores;
  std::size_t next = 0;  // the first day not in a core yet
  std::uint64_t taken = 0;
  while (next < days.size()) {
    std::uint64_t end = std::min<std::uint64_t>(total, taken + block_rows);
    if (total - end < block_rows / 2) end = total;  // no small last block
    const std::int32_t first = days[next].first;
    while (taken < end) taken += days[next++].second;  // whole days
    cores.push_back({first, days[next - 1].first});
  }
  return cores;
}

TimeBlocks time_blocks(std::span<const std::int32_t> dates, std::span<const DayRange> cores,
                       std::int32_t window_days) {
  const std::size_t n = dates.size();
  TimeBlocks blocks;
  if (cores.empty()) {
    blocks.rows.emplace_back(n);
    std::iota(blocks.rows[0].begin(), blocks.rows[0].end(), 0u);
    blocks.owner.assign(n, 0);
    return blocks;
  }
  blocks.owner.assign(n, kNoBlock);
  blocks.rows.resize(cores.size());
  for (std::size_t b = 0; b < cores.size(); ++b) {
    const std::int64_t lo = std::int64_t{cores[b].first} - window_days;
    const std::int64_t hi = std::int64_t{cores[b].last} + window_days;
    std::vector<std::uint32_t>& rows = blocks.rows[b];
    for (std::size_t r = 0; r < n; ++r) {
      const std::int32_t d = dates[r];
      if (d == kNoDate || (d >= lo && d <= hi)) rows.push_back(static_cast<std::uint32_t>(r));
      if (d != kNoDate && d >= cores[b].first && d <= cores[b].last)
        blocks.owner[r] = static_cast<std::uint32_t>(b);
    }
  }
  return blocks;
}

TimeBlocks time_blocks(std::span<const std::int32_t> dates, std::size_t block_rows,
                       std::int32_t window_days) {
  std::vector<std::int32_t> dated;
  for (const std::int32_t d : dates)
    if (d != kNoDate) dated.push_back(d);
  std::sort(dated.begin(), dated.end());
  std::vector<std::pair<std::int32_t, std::uint64_t>> days;
  for (const std::int32_t d : dated) {
    if (days.empty() || days.back().first != d) days.emplace_back(d, 0);
    ++days.back().second;
  }
  return time_blocks(dates, block_cores(days, block_rows, window_days), window_days);
}

namespace {

std::uint32_t find(std::vector<std::uint32_t>& parent, std::uint32_t x) {
  while (parent[x] != x) x = parent[x] = parent[parent[x]];
  return x;
}

}  // namespace

std::vector<std::uint32_t> stitch_blocks(const TimeBlocks& blocks,
                                         const std::vector<std::vector<std::uint32_t>>& labels) {
  STORYLINE_CHECK_ARG(labels.size() == blocks.rows.size(), "one list of labels per block");
  const std::size_t n = blocks.owner.size();
  // Each block's stories as global ids from offset[b], and their sizes.
  std::vector<std::uint32_t> offset(blocks.rows.size() + 1, 0);
  for (std::size_t b = 0; b < blocks.rows.size(); ++b) {
    STORYLINE_CHECK_ARG(labels[b].size() == blocks.rows[b].size(), "one label per row of a block");
    const std::uint32_t count =
        labels[b].empty() ? 0 : *std::max_element(labels[b].begin(), labels[b].end()) + 1;
    offset[b + 1] = offset[b] + count;
  }
  std::vector<std::uint32_t> size(offset.back(), 0);
  for (std::size_t b = 0; b < blocks.rows.size(); ++b)
    for (const std::uint32_t l : labels[b]) ++size[offset[b] + l];
  // Each row's story in its own block; an undated row's, its largest.
  std::vector<std::uint32_t> home(n, UINT32_MAX);
  for (std::size_t b = 0; b < blocks.rows.size(); ++b) {
    for (std::size_t k = 0; k < blocks.rows[b].size(); ++k) {
      const std::uint32_t r = blocks.rows[b][k];
      const std::uint32_t id = offset[b] + labels[b][k];
      if (blocks.owner[r] == b ||
          (blocks.owner[r] == kNoBlock && (home[r] == UINT32_MAX || size[id] > size[home[r]])))
        home[r] = id;
    }
  }
  std::vector<std::uint32_t> parent(offset.back());
  std::iota(parent.begin(), parent.end(), 0u);
  for (std::size_t b = 0; b < blocks.rows.size(); ++b) {
    for (std::size_t k = 0; k < blocks.rows[b].size(); ++k) {
      const std::uint32_t r = blocks.rows[b][k];
      if (blocks.owner[r] == kNoBlock || blocks.owner[r] == b) continue;
      const std::uint32_t x = find(parent, offset[b] + labels[b][k]), y = find(parent, home[r]);
      if (x != y) parent[std::max(x, y)] = std::min(x, y);
    }
  }
  std::vector<std::uint32_t> story(n), dense(offset.back(), UINT32_MAX);
  std::uint32_t next = 0;
  for (std::size_t r = 0; r < n; ++r) {
    STORYLINE_CHECK_ARG(home[r] != UINT32_MAX, "every row is in a block");
    std::uint32_t& d = dense[find(parent, home[r])];
    if (d == UINT32_MAX) d = next++;
    story[r] = d;
  }
  return story;
}

}  // namespace storyline::detail
