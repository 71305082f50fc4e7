#include "storyline/language.hpp"

#include <gtest/gtest.h>

#include <string>

namespace storyline {
namespace {

TEST(GuessLanguage, TellsTheFiveLanguagesByTheirFunctionWords) {
  EXPECT_EQ(guess_language("The minister said that the talks with Syria are over and that is final."),
            Language::kEnglish);
  EXPECT_EQ(
      guess_language("Der Minister sagte, dass die Gespräche mit Syrien beendet sind und das ist nicht neu."),
      Language::kGerman);
  EXPECT_EQ(
      guess_language("El ministro dijo que los diálogos con Siria terminaron y que las partes se retiran."),
      Language::kSpanish);
  EXPECT_EQ(guess_language(
                "Le ministre a dit que les discussions avec la Syrie sont finies et qui est le suivant."),
            Language::kFrench);
  EXPECT_EQ(guess_language("Il ministro ha detto che i colloqui con la Siria sono finiti e non per sempre."),
            Language::kItalian);
}

TEST(GuessLanguage, TellsOtherScriptsByTheirLetters) {
  EXPECT_EQ(guess_language("Министр заявил, что переговоры с Сирией завершены."), Language::kCyrillic);
  EXPECT_EQ(guess_language("قال الوزير إن المحادثات مع سوريا انتهت."), Language::kArabic);
  EXPECT_EQ(guess_language("部长表示，与叙利亚的谈判已经结束。Reuters"), Language::kCjk);
}

TEST(GuessLanguage, IsUnknownWithoutEnoughEvidence) {
  EXPECT_EQ(guess_language(""), Language::kUnknown);
  EXPECT_EQ(guess_language("Putin Netanyahu Moscow"), Language::kUnknown);  // names only
  EXPECT_EQ(guess_language("the minister"), Language::kUnknown);            // one function word
  EXPECT_EQ(guess_language("Minister powiedział, że rozmowy z Syrią się zakończyły."), Language::kUnknown);
  EXPECT_EQ(guess_language(std::string("\xff\xfe the and \xc3") + " of"),
            Language::kEnglish);  // bad bytes skipped
  EXPECT_EQ(language_name(Language::kGerman), "de");
  EXPECT_EQ(language_name(Language::kUnknown), "unknown");
}

}  // namespace
}  // namespace storyline
