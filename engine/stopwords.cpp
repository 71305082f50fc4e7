#include "storyline/stopwords.hpp"

#include <cstdint>
#include <iterator>
#include <string_view>
#include <vector>

namespace storyline {
namespace {

// Frequent function words of English, Spanish, French, Italian and German (after the Snowball and NLTK
// lists, shortened), plus words that carry no topic in news ("said", weekdays). Sorted for binary search.
constexpr std::string_view kStopWords[] = {
    "a",       "abbiamo", "aber",     "about",      "above",     "ad",        "after",      "again",
    "against", "agl",     "agli",     "ai",         "al",        "algo",      "algunas",    "algunos",
    "all",     "alla",    "alle",     "allem",      "allen",     "aller",     "alles",      "allo",
    "als",     "also",    "am",       "an",         "anche",     "ancora",    "and",        "ander",
    "andere",  "anderem", "anderen",  "anderer",    "anderes",   "anni",      "anno",       "ante",
    "antes",   "any",     "après",    "are",        "as",        "at",        "au",         "auch",
    "auf",     "aura",    "aus",      "aussi",      "aux",       "avaient",   "avait",      "avant",
    "avec",    "avete",   "avez",     "avons",      "año",       "años",      "back",       "be",
    "because", "been",    "before",   "bei",        "being",     "below",     "between",    "bin",
    "bis",     "bist",    "both",     "but",        "by",        "c",         "can",        "ce",
    "ceci",    "cela",    "ces",      "cet",        "cette",     "che",       "chi",        "ci",
    "coi",     "col",     "come",     "comme",      "como",      "con",       "contra",     "contro",
    "could",   "cual",    "cuando",   "cui",        "d",         "da",        "dagl",       "dagli",
    "dai",     "dal",     "dall",     "dalla",      "dalle",     "dallo",     "damit",      "dann",
    "dans",    "das",     "dass",     "day",        "days",      "daß",       "de",         "degl",
    "degli",   "dei",     "del",      "dell",       "della",     "delle",     "dello",      "dem",
    "den",     "der",     "des",      "desde",      "di",        "did",       "die",        "dijo",
    "do",      "does",    "doing",    "donde",      "dont",      "dopo",      "dov",        "dove",
    "down",    "du",      "durante",  "during",     "e",         "each",      "ed",         "ein",
    "eine",    "einem",   "einen",    "einer",      "eines",     "el",        "ella",       "ellas",
    "elle",    "ellos",   "en",       "entre",      "er",        "era",       "erano",      "es",
    "esa",     "esas",    "ese",      "eso",        "esos",      "essere",    "est",        "esta",
    "estar",   "estas",   "este",     "esto",       "estos",     "estoy",     "está",       "están",
    "et",      "etwa",    "eu",       "eux",        "even",      "few",       "first",      "for",
    "friday",  "from",    "fue",      "fueron",     "furent",    "further",   "fut",        "für",
    "gegen",   "get",     "gli",      "got",        "ha",        "haben",     "había",      "habían",
    "had",     "hai",     "han",      "hanno",      "has",       "hasta",     "hat",        "hatte",
    "hatten",  "have",    "having",   "hay",        "he",        "her",       "here",       "hers",
    "herself", "hier",    "him",      "himself",    "hin",       "hinter",    "his",        "ho",
    "how",     "however", "i",        "ich",        "if",        "ihr",       "ihre",       "ihrem",
    "ihren",   "ihrer",   "il",       "ils",        "im",        "in",        "into",       "io",
    "is",      "ist",     "it",       "its",        "itself",    "j",         "ja",         "jahr",
    "jahre",   "je",      "jede",     "jedem",      "jeden",     "jeder",     "jedes",      "just",
    "kein",    "keine",   "keinem",   "keinen",     "l",         "la",        "las",        "last",
    "le",      "lei",     "les",      "leur",       "leurs",     "li",        "like",       "lo",
    "loro",    "los",     "lui",      "m",          "ma",        "made",      "mais",       "make",
    "many",    "may",     "me",       "mehr",       "mes",       "mi",        "mia",        "mie",
    "miei",    "might",   "mio",      "mis",        "mit",       "moi",       "mon",        "monday",
    "more",    "most",    "mr",       "mrs",        "ms",        "much",      "mucho",      "muchos",
    "muss",    "must",    "muy",      "my",         "myself",    "más",       "même",       "mí",
    "mía",     "mías",    "mío",      "míos",       "n",         "nach",      "nada",       "ne",
    "negl",    "negli",   "nei",      "nel",        "nell",      "nella",     "nelle",      "nello",
    "new",     "ni",      "nicht",    "nichts",     "no",        "noch",      "noi",        "non",
    "nor",     "nos",     "nosotras", "nosotros",   "nostra",    "nostre",    "nostri",     "nostro",
    "not",     "notre",   "nous",     "now",        "nuestra",   "nuestro",   "nun",        "nur",
    "o",       "ob",      "oder",     "of",         "off",       "ohne",      "on",         "once",
    "one",     "only",    "ont",      "or",         "os",        "other",     "otra",       "otras",
    "otro",    "otros",   "ou",       "our",        "ours",      "ourselves", "out",        "over",
    "own",     "où",      "par",      "para",       "pas",       "people",    "per",        "perché",
    "pero",    "più",     "plus",     "poco",       "por",       "porque",    "pour",       "qu",
    "quale",   "quanta",  "quante",   "quanti",     "quanto",    "que",       "quella",     "quelle",
    "quelli",  "quello",  "questa",   "queste",     "questi",    "questo",    "qui",        "quien",
    "quienes", "qué",     "s",        "sa",         "said",      "same",      "sans",       "saturday",
    "say",     "says",    "se",       "secondo",    "según",     "sehr",      "sei",        "sein",
    "seine",   "seinem",  "seinen",   "seiner",     "seit",      "selon",     "ser",        "sera",
    "serai",   "seront",  "ses",      "shall",      "she",       "should",    "si",         "sich",
    "sie",     "sin",     "since",    "sind",       "so",        "sobre",     "soll",       "some",
    "sommes",  "son",     "sono",     "sont",       "sous",      "sowie",     "stata",      "stato",
    "still",   "su",      "sua",      "such",       "sue",       "sugl",      "sugli",      "sui",
    "suis",    "sul",     "sull",     "sulla",      "sulle",     "sullo",     "sunday",     "suo",
    "suoi",    "sur",     "sus",      "suya",       "suyo",      "sí",        "t",          "ta",
    "también", "tanto",   "te",       "tell",       "tes",       "than",      "that",       "the",
    "their",   "theirs",  "them",     "themselves", "then",      "there",     "these",      "they",
    "this",    "those",   "three",    "through",    "thursday",  "ti",        "time",       "to",
    "todo",    "todos",   "toi",      "told",       "ton",       "too",       "tous",       "tout",
    "toute",   "toutes",  "tra",      "très",       "tu",        "tua",       "tue",        "tuesday",
    "tuo",     "tuoi",    "tus",      "tutti",      "tutto",     "tuya",      "tuyo",       "two",
    "tú",      "um",      "un",       "una",        "und",       "under",     "une",        "uno",
    "unos",    "uns",     "unter",    "until",      "up",        "us",        "very",       "vi",
    "voi",     "vom",     "von",      "vor",        "vos",       "vosotras",  "vosotros",   "vostra",
    "vostre",  "vostri",  "vostro",   "votre",      "vous",      "vuestra",   "vuestro",    "war",
    "waren",   "was",     "way",      "we",         "wednesday", "week",      "weeks",      "weil",
    "well",    "wenn",    "werden",   "were",       "what",      "when",      "where",      "which",
    "while",   "who",     "whom",     "why",        "wie",       "wieder",    "will",       "wir",
    "wird",    "with",    "would",    "wurde",      "wurden",    "y",         "ya",         "year",
    "years",   "yo",      "you",      "your",       "yours",     "yourself",  "yourselves", "zu",
    "zum",     "zur",     "zwischen", "à",          "è",         "él",        "étaient",    "était",
    "étant",   "été",     "étée",     "étées",      "étés",      "êtes",      "über"};

// An open-addressing set over the list, built once: one hash and usually one comparison per token
// (the binary search took ten, and showed in profiles of the feed).
class StopWordSet {
 public:
  StopWordSet() {
    std::size_t capacity = 1;
    while (capacity < 4 * std::size(kStopWords)) capacity *= 2;
    slots_.assign(capacity, std::string_view());
    mask_ = capacity - 1;
    for (const std::string_view w : kStopWords) {
      std::size_t i = hash(w) & mask_;
      while (!slots_[i].empty()) i = (i + 1) & mask_;
      slots_[i] = w;
    }
  }

  bool contains(std::string_view token) const {
    if (token.empty() || token.size() > kMaxLength) return false;
    for (std::size_t i = hash(token) & mask_; !slots_[i].empty(); i = (i + 1) & mask_) {
      if (slots_[i] == token) return true;
    }
    return false;
  }

 private:
  static constexpr std::size_t kMaxLength = 16;  // longer than any word of the list
  static std::size_t hash(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
  std::vector<std::string_view> slots_;
  std::size_t mask_ = 0;
};

}  // namespace

bool is_stop_word(std::string_view token) {
  static const StopWordSet set;
  return set.contains(token);
}

}  // namespace storyline
