"""The language the whole answer is written in, as `langdetect` reads it (its profiles ship
with the package: nothing is downloaded)."""

from __future__ import annotations

from typing import Literal

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from core.instructions.base import Spec
from core.state import Finding

DetectorFactory.seed = 0  # the detector samples: a fixed seed gives one verdict per text

LANGUAGES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan",
    "cs": "Czech", "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "et": "Estonian", "fa": "Persian", "fi": "Finnish",
    "fr": "French", "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
    "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese", "kn": "Kannada",
    "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian",
    "ml": "Malayalam", "mr": "Marathi", "ne": "Nepali", "nl": "Dutch", "no": "Norwegian",
    "pa": "Punjabi", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sk": "Slovak", "sl": "Slovenian", "so": "Somali", "sq": "Albanian", "sv": "Swedish",
    "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "th": "Thai", "tl": "Tagalog",
    "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip
"""The languages `langdetect` tells apart, by ISO 639-1 code (its two Chinese profiles are
one language here)."""
LanguageCode = Literal[tuple(LANGUAGES)]  # type: ignore[valid-type]


class ResponseLanguage(Spec):
    """The answer is in `language` (an ISO 639-1 code): `langdetect`'s most likely language, as
    IFEval's `language:response_language` decides it. A text too short or without letters to
    detect fails. Very short answers may be misread by the detector, as by the reference."""

    kind: Literal["response_language"] = "response_language"
    language: LanguageCode

    def check(self, text: str) -> Finding | None:
        try:
            found = detect_langs(text)
        except LangDetectException:
            return self.finding("the language of the answer cannot be detected (no letters)")
        best = found[0].lang.split("-")[0]
        if best == self.language:
            return None
        name = LANGUAGES.get(best, best)
        return self.finding(f"the answer reads as {name}, not {LANGUAGES[self.language]}", best)

    def describe(self) -> str:
        return f"Write the whole response in {LANGUAGES[self.language]}, and no other language."
