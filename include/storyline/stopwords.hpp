// Stop words of English, Spanish, French, Italian and German, in normalised (case-folded) form.
#pragma once

#include <string_view>

namespace storyline {

/// True when token (normalised: NFKC, case-folded) is a stop word of any of the five languages. The
/// union is used because news feeds mix languages and a word frequent in one (German "die") is rarely
/// a topic word in another. Thread-safe.
bool is_stop_word(std::string_view token);

}  // namespace storyline
