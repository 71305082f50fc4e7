#include "detail/page_furniture.hpp"

#include <array>
#include <string_view>

namespace storyline::detail {
namespace {

constexpr std::array<std::string_view, 12> kNames = {
    "Daily Ledger",     "Metro Wire",    "The Evening Post", "Coastal Times",
    "National Courier", "Valley Herald", "Global Dispatch",  "City Tribune",
    "Northern Star",    "The Observer",  "Harbour Gazette",  "Capital Report"};
constexpr std::array<std::string_view, 4> kHeads = {
    "By {S} staff | Share on Facebook | Share on X | Email this story | Listen to this article",
    "{S} | Updated today | Reading time four minutes | Save for later | Print this page",
    "From the {S} newsroom. Follow us for breaking news. Share this story with your friends",
    "{S} news desk | Share | Tweet | WhatsApp | Copy link | Text size"};
constexpr std::array<std::string_view, 3> kCookies = {
    "We use cookies to improve your experience on {S}. By continuing to browse the site you agree to our use "
    "of cookies. Manage your preferences in our cookie policy.",
    "{S} and its partners store and access information on your device to personalise content and ads. You "
    "can "
    "accept or reject these purposes at any time in the privacy settings.",
    "This site uses cookies and similar technologies. Read how {S} processes your data in our privacy notice "
    "and choose which cookies you accept."};
constexpr std::array<std::string_view, 3> kNewsletters = {
    "Sign up for the {S} morning briefing and get the top stories delivered to your inbox every day. It is "
    "free and you can unsubscribe at any time.",
    "Never miss a story: subscribe to the {S} newsletter for the best of our journalism, sent straight to "
    "your "
    "inbox each evening.",
    "Support independent journalism. Become a {S} member today for unlimited access, fewer adverts and our "
    "weekly newsletter."};
constexpr std::array<std::string_view, 3> kRelated = {"Related coverage:", "More from {S}:", "Read next:"};
constexpr std::array<std::string_view, 2> kCopyrights = {
    "Copyright {S}. All rights reserved. This material may not be published, broadcast, rewritten or "
    "redistributed without permission.",
    "All content copyright {S} unless stated otherwise. Reproduction in whole or in part without written "
    "consent is prohibited."};

std::string fill(std::string_view pattern, std::string_view name) {
  std::string out(pattern);
  for (std::size_t at; (at = out.find("{S}")) != std::string::npos;) out.replace(at, 3, name);
  return out;
}

}  // namespace

PageFurniture::PageFurniture(std::size_t sites, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (std::size_t s = 0; s < sites; ++s) {
    const std::string name = std::string(kNames[s % kNames.size()]) +
                             (s < kNames.size() ? "" : " " + std::to_string(s / kNames.size()));
    Site site;
    site.head = fill(kHeads[rng() % kHeads.size()], name);
    site.cookie = fill(kCookies[rng() % kCookies.size()], name);
    site.newsletter = fill(kNewsletters[rng() % kNewsletters.size()], name);
    site.related_label = fill(kRelated[rng() % kRelated.size()], name);
    site.copyright = fill(kCopyrights[rng() % kCopyrights.size()], name);
    sites_.push_back(std::move(site));
  }
}

std::vector<std::string> PageFurniture::wrap(std::size_t site, const std::vector<std::string>& sentences,
                                             const std::vector<std::string>& related,
                                             std::mt19937_64& rng) const {
  const Site& s = sites_[site % sites_.size()];
  std::vector<std::string> page;
  page.push_back(s.head + ".");
  if (rng() % 2 == 0) page.push_back(s.cookie);
  page.insert(page.end(), sentences.begin(), sentences.end());
  page.push_back(s.newsletter);
  std::string links = s.related_label;
  for (const std::string& headline : related) links += " " + headline + ".";
  if (!related.empty()) page.push_back(links);
  page.push_back(s.copyright);
  return page;
}

}  // namespace storyline::detail
