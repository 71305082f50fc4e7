// The page furniture of news sites, for generated copies a reader sees as copies: each site wraps its
// pages in the same byline, share bar, cookie notice, newsletter pitch and copyright line, plus a list of
// related headlines that changes from page to page.
#pragma once

#include <random>
#include <string>
#include <vector>

namespace storyline::detail {

class PageFurniture {
 public:
  /// sites: how many sites; their wording is drawn from seed.
  PageFurniture(std::size_t sites, std::uint64_t seed);

  std::size_t sites() const { return sites_.size(); }

  /// The page of site: its furniture around sentences, with related (other articles' headlines) in the
  /// related-links list.
  std::vector<std::string> wrap(std::size_t site, const std::vector<std::string>& sentences,
                                const std::vector<std::string>& related, std::mt19937_64& rng) const;

 private:
  struct Site {
    std::string head, cookie, newsletter, related_label, copyright;
  };
  std::vector<Site> sites_;
};

}  // namespace storyline::detail
