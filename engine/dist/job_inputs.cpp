#include "dist/job_inputs.hpp"

#include "dist/input_split.hpp"

namespace storyline::dist {

std::vector<std::vector<InputPart>> split_and_number(Comm& comm, Steps& steps,
                                                     const std::vector<std::string>& inputs) {
  const auto ranks = static_cast<std::size_t>(comm.size());
  std::vector<std::vector<InputPart>> parts;
  steps.run([&] { parts = split_inputs(inputs, static_cast<unsigned>(ranks)); });
  std::vector<std::uint64_t> part_lines;
  for (const auto& rank_parts : parts) part_lines.resize(part_lines.size() + rank_parts.size(), 0);
  steps.run([&] {
    std::size_t at = 0;
    for (int r = 0; r < comm.rank(); ++r) at += parts[static_cast<std::size_t>(r)].size();
    for (const InputPart& p : parts[static_cast<std::size_t>(comm.rank())]) {
      if (!p.whole()) part_lines[at] = count_newlines(inputs[p.file], p.begin, p.end);
      ++at;
    }
  });
  comm.sum(part_lines);
  std::size_t at = 0;
  std::vector<std::uint64_t> before(inputs.size(), 0);
  for (std::size_t r = 0; r < ranks; ++r) {
    for (InputPart& p : parts[r]) {
      p.first_line = before[p.file] + 1;
      before[p.file] += part_lines[at++];
    }
  }
  return parts;
}

}  // namespace storyline::dist
