// Story clustering in time blocks: a dated corpus is cut into blocks of consecutive days, each clustered
// on its own with a halo of window_days on either side (every pair the story graph could join is in one
// block), and the blocks' stories are stitched where they share a document. It bounds the memory of
// story clustering by a block instead of the corpus, and it is how the ranks of an MPI job divide it.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace storyline::detail {

inline constexpr std::uint32_t kNoBlock = UINT32_MAX;

struct TimeBlocks {
  /// Per block, its rows, ascending: its core (dated rows of its days), its halo (dated rows within
  /// window_days of them) and every undated row.
  std::vector<std::vector<std::uint32_t>> rows;
  /// Per row, the block whose core holds it; kNoBlock for an undated row of several blocks.
  std::vector<std::uint32_t> owner;
};

/// The days of one block's core, first to last.
struct DayRange {
  std::int32_t first, last;
};

/// The cores of the blocks of a corpus whose dated rows fall on days (day, rows; ascending, rows > 0):
/// runs of whole days of at least block_rows rows, the last taking what is left when that is under half
/// a block. Empty (one block) when block_rows is 0, window_days < 0 or there are at most block_rows
/// dated rows. What time_blocks cuts, from a histogram that the ranks of an MPI job can sum.
std::vector<DayRange> block_cores(std::span<const std::pair<std::int32_t, std::uint64_t>> days,
                                  std::size_t block_rows, std::int32_t window_days);

/// The blocks of rows with those dates around cores (block_cores; empty: one block of every row).
TimeBlocks time_blocks(std::span<const std::int32_t> dates, std::span<const DayRange> cores,
                       std::int32_t window_days);

/// Blocks of about block_rows dated rows each (whole days: a day is never split). One block holding
/// every row (owner 0) when block_rows is 0, window_days < 0 (no window: any two rows may pair) or
/// there are at most block_rows dated rows. dates: one per row, kNoDate for none.
TimeBlocks time_blocks(std::span<const std::int32_t> dates, std::size_t block_rows, std::int32_t window_days);

/// Stories of the whole from each block's labels (labels[b][k]: the story, dense in the block, of
/// rows[b][k]): two blocks' stories are one where they share a dated row; an undated row takes the story
/// it has in the block where that story is largest (the first such block on ties) and joins nothing.
/// Returns a label per row, dense, numbered in order of each story's first row; with one block, that
/// block's labels.
std::vector<std::uint32_t> stitch_blocks(const TimeBlocks& blocks,
                                         const std::vector<std::vector<std::uint32_t>>& labels);

}  // namespace storyline::detail
