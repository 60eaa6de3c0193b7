"""The ticket search language, parsed by us and rendered into each engine's syntax.

`parse(text)` turns what a user typed into a `SearchQuery`:

- words: every one must match (in any searched field of the ticket);
- `"a phrase"`: its words next to each other; a word written with a hyphen
  (`Fenster-Rahmen`) is a phrase too;
- `prefix*`: a word beginning so;
- `-excluded`: no ticket holding it (a word, a phrase or a prefix);
- `#123` or `123` alone: also the ticket with number 123.

Case and accents are ignored (`fold`) and German word forms meet in one stem
(`stem`: the Snowball German stemmer, the one PostgreSQL's `german`
configuration uses, so both databases agree). Only the letters and digits of
the input ever reach an engine: `fts5_match` and `tsquery` quote each word
themselves. Anything else is a `BadUserInput` on "filter.search", never a
database error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]

from core.errors import BadUserInput

FIELD = "filter.search"
MAX_LENGTH = 500
MAX_TERMS = 16
MAX_WORD = 100
# What one searched text contributes to the index at most (PostgreSQL's tsvector
# holds up to 1 MB); cut the same way on both databases.
MAX_INDEXED_CHARACTERS = 200_000
# A word of more bytes PostgreSQL's parser skips; the SQLite index skips it as well.
MAX_INDEXED_WORD_BYTES = 2047
MAX_NUMBER = 2_147_483_647

WORD = re.compile(r"[^\W_]+")
# Letters PostgreSQL's `unaccent` rules spell with more than a mark removed.
SPELLED = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "TH",
        "ð": "d",
        "Ð": "D",
        "ı": "i",
    }
)


def fold(text: str) -> str:
    """`text` in lower case without accents (Tür → tur, Café → cafe, Straße → strasse)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(SPELLED))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


_stemmer = snowballstemmer.stemmer("german")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball German stem of a folded word (Fenster, Fensters, Fenstern → fenst)."""
    return str(_stemmer.stemWord(word))


def words(text: str) -> list[str]:
    """The words of `text` as written (letters and digits; everything else separates)."""
    return WORD.findall(text)


def indexed_text(text: str) -> str:
    """What the SQLite index holds for `text`: its words folded and stemmed, separated by spaces."""
    stems = []
    for written in words(text[:MAX_INDEXED_CHARACTERS]):
        if len(written.encode()) > MAX_INDEXED_WORD_BYTES:
            continue
        for word in words(fold(written)):
            stems.append(stem(word))
    return " ".join(stems)


@dataclass(frozen=True)
class Term:
    """One thing to look for: one word, or several next to each other (a phrase)."""

    words: tuple[str, ...]  # folded, in order
    prefix: bool = False  # the last word may go on
    excluded: bool = False

    @property
    def stems(self) -> tuple[str, ...]:
        return tuple(stem(w) for w in self.words)


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search: tickets holding every included term and none of the excluded ones."""

    terms: tuple[Term, ...]
    number: int | None = None  # `#123` or `123` alone: ticket number 123 matches as well

    @property
    def included(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.excluded)

    @property
    def excluded(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.excluded)

    def matches_word(self, written: str) -> bool:
        """Whether a word of a text (as written) is one of the included terms' words (for highlights)."""
        for word in words(fold(written)):
            found = stem(word)
            for term in self.included:
                stems = term.stems
                if found in stems[:-1] or (found.startswith(stems[-1]) if term.prefix else found == stems[-1]):
                    return True
        return False


# A chunk is a quoted phrase (the closing quote may be missing) or a run of
# anything but blanks and quotes; `-` before it excludes, `*` after it makes a prefix.
CHUNK = re.compile(r'(-?)"([^"]*)"?(\*?)|(-?)([^\s"]+)')


def parse(text: str) -> SearchQuery | None:
    """The query `text` asks for; None when it is blank (no narrowing).

    BadUserInput (field "filter.search") for a search of exclusions only,
    operators only, or beyond the limits (length, terms, word length).
    """
    stripped = text.strip()
    if not stripped:
        return None
    if len(stripped) > MAX_LENGTH:
        raise BadUserInput(f"The search must have at most {MAX_LENGTH} characters.", field=FIELD, limit=MAX_LENGTH)
    terms: list[Term] = []
    for match in CHUNK.finditer(stripped):
        phrase_minus, phrase, phrase_star, word_minus, chunk = match.groups()
        if phrase is not None:
            found, excluded, prefix = words(fold(phrase)), bool(phrase_minus), bool(phrase_star)
        else:
            found = words(fold(chunk))
            excluded = bool(word_minus)
            prefix = chunk.endswith("*")
        if not found:
            continue  # operators only
        if any(len(w) > MAX_WORD for w in found):
            raise BadUserInput(f"A search word may have at most {MAX_WORD} characters.", field=FIELD, limit=MAX_WORD)
        term = Term(tuple(found), prefix=prefix, excluded=excluded)
        if term not in terms:
            terms.append(term)
    if len(terms) > MAX_TERMS:
        raise BadUserInput(f"A search may have at most {MAX_TERMS} terms.", field=FIELD, limit=MAX_TERMS)
    if not terms:
        raise BadUserInput("The search holds no word to look for, only operators.", field=FIELD)
    if all(t.excluded for t in terms):
        raise BadUserInput("The search only excludes words; name at least one to look for.", field=FIELD)
    return SearchQuery(tuple(terms), number=_number(stripped))


def _number(text: str) -> int | None:
    digits = text[1:] if text.startswith("#") else text
    if digits.isascii() and digits.isdigit() and 0 < int(digits) <= MAX_NUMBER:
        return int(digits)
    return None


# ---------------------------------------------------------------- rendering


def _quoted_fts5(term: Term) -> str:
    # A stem holds letters and digits only: no quote to escape.
    return '"' + " ".join(term.stems) + '"' + (" *" if term.prefix else "")


def fts5_match(query: SearchQuery, included_columns: tuple[str, ...], visible_columns: tuple[str, ...]) -> str:
    """An FTS5 MATCH expression: every included term in `included_columns`, no excluded one in `visible_columns`.

    Columns are the index's own column names (constants, never user text).
    """
    included = " AND ".join(_quoted_fts5(t) for t in query.included)
    expression = "{" + " ".join(included_columns) + "} : (" + included + ")"
    if query.excluded:
        excluded = " OR ".join(_quoted_fts5(t) for t in query.excluded)
        expression = f"({expression}) NOT ({{{' '.join(visible_columns)}}} : ({excluded}))"
    return expression


def _tsquery_term(term: Term, weights: str) -> str:
    # Each word quoted as a lexeme; PostgreSQL's configuration folds and stems it.
    # A folded word holds letters and digits only: no quote or backslash to escape.
    last = len(term.words) - 1
    lexemes = []
    for i, word in enumerate(term.words):
        label = ("*" if term.prefix and i == last else "") + weights
        lexemes.append(f"'{word}':{label}" if label else f"'{word}'")
    return "(" + " <-> ".join(lexemes) + ")"


def tsquery(query: SearchQuery, included_weights: str, visible_weights: str) -> str:
    """Input for `to_tsquery`: every included term within `included_weights`, no excluded one within `visible_weights`.

    Weights are the document's labels (A title, B description/files/object,
    C public comments, D internal comments); "" means any.
    """
    parts = [_tsquery_term(t, included_weights) for t in query.included]
    parts += ["!" + _tsquery_term(t, visible_weights) for t in query.excluded]
    return " & ".join(parts)
