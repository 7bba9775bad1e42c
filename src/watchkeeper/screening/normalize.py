"""Name normalisation for screening: one name string -> tagged ASCII tokens, plus notes.

The same function runs on list names (when the index is built) and on query names,
so both sides meet in one form: casefolded ASCII, transliterated from any script
(normality/rigour), titles and honorifics tagged, particles (al-, bin, van, de) and
company-form words (LLC, S.A., OOO, Sdn Bhd -> rigour's compare forms) kept as
separate low-weight parts. Invisible characters and look-alike letters from another
script are *evasion*, not noise: they are removed or mapped and recorded in ``notes``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from normality import ascii_text
from rigour.names import extract_org_types
from rigour.text import metaphone

# Kinds of name part, each with its own weight in scoring.
NAME = "name"
LEGAL = "legal"  # company form: LLC, JSC, GmbH (rigour compare form)
PARTICLE = "particle"  # al, bin, van, de
TITLE = "title"  # Mr, Dr, Sheikh, General: dropped from scoring
NUMBER = "number"

# Format characters used to break up names without changing how they look.
_INVISIBLE = {
    0x00AD: "soft hyphen",
    0x034F: "combining grapheme joiner",
    0x061C: "Arabic letter mark",
    0x115F: "Hangul choseong filler",
    0x1160: "Hangul jungseong filler",
    0x17B4: "Khmer vowel inherent aq",
    0x17B5: "Khmer vowel inherent aa",
    0x180E: "Mongolian vowel separator",
    0x200B: "zero-width space",
    0x200C: "zero-width non-joiner",
    0x200D: "zero-width joiner",
    0x200E: "left-to-right mark",
    0x200F: "right-to-left mark",
    0x202A: "left-to-right embedding",
    0x202B: "right-to-left embedding",
    0x202C: "pop directional formatting",
    0x202D: "left-to-right override",
    0x202E: "right-to-left override",
    0x2060: "word joiner",
    0x2061: "function application",
    0x2062: "invisible times",
    0x2063: "invisible separator",
    0x2064: "invisible plus",
    0x2066: "left-to-right isolate",
    0x2067: "right-to-left isolate",
    0x2068: "first strong isolate",
    0x2069: "pop directional isolate",
    0x3164: "Hangul filler",
    0xFEFF: "zero-width no-break space",
    0xFFA0: "halfwidth Hangul filler",
}

# Cyrillic and Greek letters that look like Latin ones (Unicode confusables, the
# subset seen in evasion). Used only inside words that also carry Latin letters, or
# in names whose other words are Latin: a whole Cyrillic name is transliterated.
_HOMOGLYPHS = {
    # Cyrillic lower / upper
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
    "ј": "j", "ԁ": "d", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ү": "y",
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O",
    "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ї": "I",
    "Ј": "J", "Ԁ": "D", "Һ": "H", "Ӏ": "I", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y",
    # Greek lower / upper
    "α": "a", "ο": "o", "ν": "v", "ρ": "p", "ι": "i", "κ": "k", "τ": "t", "υ": "u",
    "χ": "x", "ϲ": "c", "ϳ": "j",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C",
}  # fmt: skip
_CONFUSABLE_SCRIPTS = ("CYRILLIC", "GREEK")

# Titles and honorifics anywhere in a person's name (rigour strips them at the start;
# lists put them in the middle too: "Sheikh", "Haji", "Mullah").
_TITLES = frozenset(
    """mr mrs ms miss mister madam dr doctor prof professor sir dame lord lady hon rev
    sheikh shaikh shaykh sheik haji hajji hadji alhaj alhaji hajj mullah mulla maulana
    mawlawi maulvi mawlana mufti imam sayyid sayed syed ayatollah hojatoleslam
    general gen colonel col major maj captain capt lieutenant lt admiral adm brigadier
    commander cmdr sergeant sgt marshal president minister prince princess emir amir
    king queen""".split()
)

# Connecting words of names: kept, matched, but they carry little weight.
_PARTICLES = frozenset(
    """al el ul ad ed ash as at az ar an bin ben ibn bint binti bte b van von der den
    de da di del della dos das du la le les y e of the and for und et fi wa""".split()
)

# Latin titles a word romanised letter by letter from Arabic script may spell: there it
# is a name ('mr' from عمر is Omar, not Mister).
_LATIN_TITLES = frozenset("mr mrs ms dr sir lt col gen maj adm capt rev hon".split())

# Separators and punctuation: everything that is not a letter or digit splits a name.
_SPLIT = re.compile(r"[^0-9a-z]+")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")

# Digits read as letters inside words (OCR and leetspeak): 0->o, 1->l, 5->s ...
_DIGIT_LETTERS = str.maketrans(
    {"0": "o", "1": "l", "2": "z", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b"}
)

MAX_NAME_CHARS = 500


@dataclass(frozen=True, slots=True)
class Token:
    """One part of a normalised name."""

    form: str  # casefolded ASCII
    kind: str  # NAME, LEGAL, PARTICLE, TITLE, NUMBER
    canon: str = ""  # LEGAL parts: the generic company form ('llc', 'jsc')


@dataclass(frozen=True, slots=True)
class NormalName:
    """A name as screening sees it: its tokens, and what cleaning it needed."""

    original: str
    tokens: tuple[Token, ...]
    notes: tuple[str, ...] = ()
    script: str = "Latin"
    family_from: int = -1  # 'FAMILY, Given' names: where the family name starts

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(t.form for t in self.tokens)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(t.kind for t in self.tokens)

    @property
    def canons(self) -> tuple[str, ...]:
        return tuple(t.canon for t in self.tokens)

    @property
    def key(self) -> str:
        return " ".join(t.form for t in self.tokens if t.kind != TITLE)


def _char_name(ch: str) -> str:
    try:
        return unicodedata.name(ch)
    except ValueError:
        return f"U+{ord(ch):04X}"


def _script_of(ch: str) -> str | None:
    """Latin, CYRILLIC, GREEK, ARABIC, ... (the first word of the Unicode name)."""
    if not ch.isalpha():
        return None
    name = _char_name(ch)
    return name.split(" ", 1)[0]


def clean_text(text: str) -> tuple[str, list[str]]:
    """Remove invisible characters and map look-alike letters; say what was found.

    Returns the cleaned text and notes such as ``"removed 1 zero-width space"`` or
    ``"mapped look-alike letters: CYRILLIC SMALL LETTER A -> a"``.
    """
    if text.isascii() and text.isprintable():
        return text, []
    notes: list[str] = []
    removed: dict[str, int] = {}
    kept: list[str] = []
    for ch in text:
        code = ord(ch)
        if code in _INVISIBLE:
            label = _INVISIBLE[code]
            removed[label] = removed.get(label, 0) + 1
            continue
        category = unicodedata.category(ch)
        if category == "Cf":
            label = _char_name(ch).lower()
            removed[label] = removed.get(label, 0) + 1
            continue
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
            continue
        kept.append(ch)
    for label, count in removed.items():
        notes.append(f"evasion: removed {count} invisible {label} character(s)")
    cleaned = "".join(kept)
    compat = unicodedata.normalize("NFKC", cleaned)
    if compat != unicodedata.normalize("NFC", cleaned) and any(
        unicodedata.category(c).startswith("L") and ord(c) > 0x2000 for c in cleaned
    ):
        styled = sorted(
            {
                c
                for c in cleaned
                if ord(c) > 0x2000 and unicodedata.normalize("NFKC", c) != c and c.isalpha()
            }
        )
        if styled:
            notes.append(
                "evasion: styled letters mapped to plain ones ("
                + ", ".join(_char_name(c) for c in styled[:3])
                + ")"
            )
    cleaned = compat
    mapped, homoglyph_note = _map_homoglyphs(cleaned)
    if homoglyph_note:
        notes.append(homoglyph_note)
    return mapped, notes


def _map_homoglyphs(text: str) -> tuple[str, str | None]:
    """Map Cyrillic/Greek look-alikes to Latin where the name is otherwise Latin."""
    scripts = {s for s in (_script_of(c) for c in text) if s}
    if "LATIN" not in scripts or not scripts & set(_CONFUSABLE_SCRIPTS):
        return text, None
    words = text.split()
    out: list[str] = []
    found: dict[str, str] = {}
    for word in words:
        letters = [c for c in word if c.isalpha()]
        foreign = [c for c in letters if _script_of(c) in _CONFUSABLE_SCRIPTS]
        if not foreign:
            out.append(word)
            continue
        # A real Cyrillic/Greek word has letters with no Latin twin: leave it.
        if any(c not in _HOMOGLYPHS for c in foreign):
            out.append(word)
            continue
        mapped = []
        for c in word:
            if c in _HOMOGLYPHS and _script_of(c) in _CONFUSABLE_SCRIPTS:
                found[c] = _HOMOGLYPHS[c]
                mapped.append(_HOMOGLYPHS[c])
            else:
                mapped.append(c)
        out.append("".join(mapped))
    if not found:
        return text, None
    sample = ", ".join(f"{_char_name(c)} -> {latin}" for c, latin in sorted(found.items())[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return " ".join(out), f"evasion: look-alike letters from another script ({sample}{more})"


def main_script(text: str) -> str:
    """The script most letters of ``text`` are in (LATIN, ARABIC, CJK, HANGUL, ...)."""
    if text.isascii():
        return "LATIN"
    counts: dict[str, int] = {}
    for ch in text:
        s = _script_of(ch)
        if s:
            counts[s] = counts.get(s, 0) + 1
    if not counts:
        return "LATIN"
    return max(counts.items(), key=lambda kv: kv[1])[0]


# Arabic and Persian letters romanised one by one, as list compilers write them without
# vowel marks (ALA-LC-like consonants, vowels only where a letter stands for one).
# Ain and hamza are dropped: transliterators write them as an apostrophe or nothing
# ('Abd, Abd; Sa'id, Said), and the generic ASCII fold turns them into '?', which split
# the word ('سعيد' gave 's', 'yd' instead of 'syd'). Ta marbuta is 'a' (-a/-ah endings),
# alif maqsura 'a' (Mustafa). Persian/Urdu letters keep their own sounds (پ p, چ ch,
# ژ zh, گ g, ک k, ی y).
_ARABIC_LETTERS = str.maketrans(
    {
        "ء": "", "ع": "", "ؤ": "", "ئ": "", "ٔ": "", "آ": "a", "أ": "a", "إ": "i", "ا": "a",
        "ٱ": "a", "ب": "b", "ت": "t", "ث": "th", "ج": "j", "ح": "h", "خ": "kh", "د": "d",
        "ذ": "dh", "ر": "r", "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t",
        "ظ": "z", "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m", "ن": "n",
        "ه": "h", "ة": "a", "و": "w", "ى": "a", "ي": "y", "پ": "p", "چ": "ch", "ژ": "zh",
        "گ": "g", "ک": "k", "ی": "y", "ے": "y", "ہ": "h", "ٹ": "t", "ڈ": "d", "ڑ": "r",
        "ـ": "",
    }
)  # fmt: skip
_PERSIAN_Z = str.maketrans({"ض": "ز", "ذ": "ز", "ظ": "ز", "ث": "س"})
_ARABIC_MARKS = re.compile(r"[\u064B-\u065F\u0670]")


# Hangul syllables romanised one by one (Revised Romanisation), so each syllable is a
# name part ('김정은' -> 'gim jeong eun') as lists write Korean names ('KIM JONG UN').
_HANGUL_LEADS = "g kk n d tt r m b pp s ss - j jj ch k t p h".split()
_HANGUL_VOWELS = "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()
_HANGUL_TAILS = "- k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()


def _hangul(text: str) -> str:
    out: list[str] = []
    for ch in text:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            lead, vowel, tail = code // 588, (code % 588) // 28, code % 28
            syllable = _HANGUL_LEADS[lead] + _HANGUL_VOWELS[vowel] + _HANGUL_TAILS[tail]
            out.append(" " + syllable.replace("-", "") + " ")
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=200_000)
def _ascii(word: str) -> str:
    if any("\u0600" <= c <= "\u06ff" for c in word):
        word = _ARABIC_MARKS.sub("", word).translate(_ARABIC_LETTERS)
    if any("\uac00" <= c <= "\ud7a3" for c in word):
        word = _hangul(word)
    return (ascii_text(word) or "").lower()


_KOREAN_SPELLINGS = (("yeo", "yo"), ("eo", "o"), ("eu", "u"), ("oo", "u"), ("ee", "i"), ("rk", "k"))
_KOREAN_LEADS = str.maketrans({"g": "k", "d": "t", "b": "p", "r": "l"})
_KOREAN_I = frozenset({"ri", "li", "yi", "lee", "rhee", "rhi", "ree", "rhie"})


@lru_cache(maxsize=100_000)
def korean_key(form: str) -> str:
    """One Korean syllable as any of its romanisations spells it: Revised ('jeong',
    'gim', 'eun'), McCune-Reischauer and North Korean usage ('chong', 'kim', 'un')."""
    if form in _KOREAN_I:
        return "i"
    text = form
    for a, b in _KOREAN_SPELLINGS:
        text = text.replace(a, b)
    text = text.replace("j", "ch")
    return text[:1].translate(_KOREAN_LEADS) + text[1:].replace("r", "l")


def tokenize(text: str, *, organisation: bool = False, person: bool = False) -> list[Token]:
    """Casefolded ASCII tokens of an already cleaned name, each tagged with its kind.

    Company forms are found with rigour's org-type database and kept as LEGAL parts
    whose ``canon`` is the generic compare form ('Limited', 'Ltd.', 'OOO' -> 'llc'), so
    they match each other while a misspelt one still matches its own spelling.
    """
    ascii_lower = _ascii(text.lower()).replace("'", "").replace("`", "")
    words = [w for w in _SPLIT.split(ascii_lower) if w]
    canons: list[str] = [""] * len(words)
    if organisation and words:
        for found, canon in _org_types(ascii_lower):
            span = [w for w in _SPLIT.split(found) if w]
            if not span:
                continue
            for start in range(len(words) - len(span) + 1):
                if words[start : start + len(span)] == span and not any(
                    canons[start : start + len(span)]
                ):
                    for k in range(start, start + len(span)):
                        canons[k] = canon
                    break
    if organisation:
        for k, word in enumerate(words):
            if not canons[k] and word in _COMPANY_WORDS:
                canons[k] = _COMPANY_WORDS[word]
    # Words written in Arabic script; a joined article is told only in those that do
    # not begin with an ain, which Latin spellings drop ('عالیزی' is 'Alizai', not
    # al-Izai).
    arabic: set[str] = set()
    articled: set[str] = set()
    for w in text.split():
        if any("\u0600" <= c <= "\u06ff" for c in w):
            romanised = _ascii(w.lower())
            arabic.add(romanised)
            if not w.startswith("ع"):
                articled.add(romanised)
    tokens: list[Token] = []
    for word, canon in zip(words, canons, strict=True):
        if any(c.isdigit() for c in word) and any(c.isalpha() for c in word):
            # Letters and digits in one word: OCR or leetspeak (M4HAN) unless a code.
            letters = sum(c.isalpha() for c in word)
            if len(word) >= 3 and letters >= max(len(word) - 2, 2):
                word = word.translate(_DIGIT_LETTERS)
        joined_article = word in articled and not canon
        if word in arabic and not canon and word.startswith("bdal") and len(word) >= 7:
            # 'Abd al-' written joined to the name it begins (عبدالرحيم 'bdalrhym').
            tokens.append(Token("bd", NAME))
            word = word[2:]
            joined_article = True
        if joined_article and len(word) >= 4 and word.startswith("al") and word != "allh":
            # The article written joined (الريمي 'alrymy'): lists write it apart. Not
            # in Allah (الله), which names join to Abd ('Abdallah', 'Abdullah').
            tokens.append(Token("al", PARTICLE))
            word = word[2:]
        if canon:
            tokens.append(Token(word, LEGAL, canon))
        elif word.isdigit():
            tokens.append(Token(word, NUMBER))
        elif word in _PARTICLES:
            tokens.append(Token(word, PARTICLE))
        elif person and word in _TITLES and not (word in arabic and word in _LATIN_TITLES):
            tokens.append(Token(word, TITLE))
        else:
            tokens.append(Token(word, NAME))
    # A name of titles and particles only ("Al Sheikh") is all name.
    if tokens and all(t.kind in (TITLE, PARTICLE) for t in tokens):
        tokens = [Token(t.form, NAME) for t in tokens]
    return tokens


# Company words rigour's org-type table leaves alone in the middle or end of a name,
# and an airline's generic words, which people add, leave out or swap ('Mahan Airlines',
# 'Mahan Air Lines' for MAHAN AIR): low-weight parts that pair with each other. (Group
# and Holding as such let 'Star West Aviation' match 'Star Aviation Group' on the dev
# split: they stay names.)
_COMPANY_WORDS = {
    "corp": "corp", "corporation": "corp", "inc": "corp", "incorporated": "corp",
    "co": "co", "company": "co", "ltd": "llc", "limited": "llc", "llc": "llc",
    "plc": "plc", "gmbh": "llc", "sa": "jsc", "ag": "jsc", "bv": "llc", "nv": "jsc",
    "air": "air", "airline": "air", "airlines": "air", "airways": "air",
    "line": "line", "lines": "line",
}  # fmt: skip


@lru_cache(maxsize=100_000)
def _org_types(text: str) -> list[tuple[str, str]]:
    return [(found, canon) for found, canon in extract_org_types(text, generic=True)]


def normalise_name(text: str, schema_kind: str = "any") -> list[NormalName]:
    """One raw name -> its screening forms (usually one; bracketed text gives a second).

    ``schema_kind`` is "person", "organisation", "object" or "any".
    """
    cleaned, notes = clean_text(text)
    script = main_script(cleaned)
    person = schema_kind in ("person", "any")
    organisation = schema_kind in ("organisation", "any")
    family_words = 0
    if schema_kind == "person" and cleaned.count(",") == 1:
        # 'MADURO MOROS, Nicolas' -> 'Nicolas MADURO MOROS': the order names are said in.
        family, given = cleaned.split(",")
        if family.strip() and given.strip():
            cleaned = f"{given.strip()} {family.strip()}"
            family_words = len(tokenize(family, person=True))
    variants = [(cleaned, script)]
    if _BRACKETS.search(cleaned):
        without = _BRACKETS.sub(" ", cleaned)
        variants.append((without, script))
    if script != "LATIN" or not cleaned.isascii():
        # One name written twice, in two scripts ('Agha Jan Alizai اغا جان عالیزی'):
        # each writing is also a name of its own.
        variants += _script_runs(cleaned)
    if script == "ARABIC" and any(ord(c) in _PERSIAN_Z for c in cleaned):
        # ض ذ ظ are 'z' and ث is 's' as Persian, Urdu and Pashto say them: فضل is
        # Fadl in Arabic and Fazal in Pakistan; lists write both.
        variants.append((cleaned.translate(_PERSIAN_Z), script))
    found: list[NormalName] = []
    seen: set[tuple[str, ...]] = set()
    for variant, script in variants:
        tokens = tokenize(variant, organisation=organisation, person=person)
        forms = tuple(t.form for t in tokens)
        if not tokens or forms in seen:
            continue
        seen.add(forms)
        family_from = len(tokens) - family_words if family_words else -1
        found.append(NormalName(text, tuple(tokens), tuple(notes), script, family_from))
        if script == "HANGUL":
            # Also as North Korean names appear on the lists ('Kim Jong Un', 'Ri').
            dprk = tuple(Token(_dprk(t.form), t.kind, t.canon) for t in tokens)
            if tuple(t.form for t in dprk) not in seen:
                seen.add(tuple(t.form for t in dprk))
                found.append(NormalName(text, dprk, tuple(notes), script, family_from))
    return found


def _script_runs(text: str) -> list[tuple[str, str]]:
    """The words of each script in a name written in two or more, when every script
    has two words or more of two letters or more."""
    by_script: dict[str, list[str]] = {}
    for word in text.split():
        by_script.setdefault(main_script(word), []).append(word)
    if len(by_script) < 2:
        return []
    for words in by_script.values():
        if sum(sum(c.isalpha() for c in w) >= 2 for w in words) < 2:
            return []
    return [(" ".join(words), script) for script, words in by_script.items()]


def _dprk(form: str) -> str:
    """A Revised Romanisation syllable as North Korean names are written in Latin."""
    if form == "i":
        return "ri"
    text = form.replace("eo", "o").replace("eu", "u")
    return text[:1].translate(_DPRK_LEADS) + text[1:]


_DPRK_LEADS = str.maketrans({"g": "k", "b": "p", "d": "t"})


# ---- keys shared by the index and the query side -----------------------------------

# The Arabic article as romanisations write it.
ARTICLES = frozenset({"al", "el", "ul", "il"})
# Letters the article's 'l' is said as (the "sun letters", romanised: t th d dh r z s
# sh and the emphatics, l n): al-Din is ad-Din, written joined 'Nouredine'.
SUN_LETTERS = frozenset("tdrzsln")


def article_said(forms: list[str] | tuple[str, ...]) -> str:
    """Parts joined with the article said as the letter after it ('nur al din' ->
    'nuraddin'); '' when no article stands between two parts before a sun letter."""
    out: list[str] = []
    changed = False
    for k, form in enumerate(forms):
        nxt = forms[k + 1] if k + 1 < len(forms) else ""
        if form in ARTICLES and k > 0 and nxt[:1] in SUN_LETTERS:
            out.append(form[0] + nxt[0])
            changed = True
        else:
            out.append(form)
    return "".join(out) if changed else ""


_VOWELS = re.compile(r"[aeiouy]")
_SKELETON_DIGRAPHS = (
    ("kh", "h"), ("gh", "g"), ("sh", "s"), ("ch", "s"), ("th", "t"), ("dh", "d"),
    ("zh", "j"), ("ph", "f"), ("ck", "k"), ("ou", "u"), ("ee", "i"), ("oo", "u"), ("x", "ks"),
)  # fmt: skip
_SKELETON_CHARS = str.maketrans({"q": "k", "c": "k", "g": "k", "z": "s", "w": "v"})


@lru_cache(maxsize=300_000)
def skeleton(form: str) -> str:
    """Consonant skeleton that survives transliteration and dropped vowels:
    'muhammad', 'mohammed', 'mhmd' -> 'mhmd'; 'qaddafi', 'gadhafi' -> 'kdf'."""
    if not form or form.isdigit():
        return form
    text = form
    for a, b in _SKELETON_DIGRAPHS:
        text = text.replace(a, b)
    text = text.translate(_SKELETON_CHARS)
    head, tail = text[0], _VOWELS.sub("", text[1:])
    if head in "aeiouy":
        head = "a"
    out = [head]
    for ch in tail:
        if ch != out[-1]:
            out.append(ch)
    return "".join(out)


_SPELLING_DIGRAPHS = (
    ("dj", "j"), ("ph", "f"), ("ck", "k"), ("x", "ks"), ("ou", "u"), ("oo", "u"),
    ("ee", "i"), ("kh", "h"), ("gh", "g"), ("th", "t"), ("dh", "z"),
)  # fmt: skip
_SPELLING_CHARS = str.maketrans({"q": "k", "w": "v", "z": "s", "y": "i"})
_LEADING_CHARS = str.maketrans({"q": "k", "w": "v"})
_SOFT_C = re.compile(r"c(?=[eiy])")
_HARD_C = re.compile(r"c(?!h)")  # "ch" is a sound of its own: "chang" is not "khang"


@lru_cache(maxsize=300_000)
def spelling_key(form: str) -> str:
    """The word with romanisation choices undone but its vowels kept: 'paq' and 'pak',
    'djan' and 'jan', 'moun' and 'mun', 'kiaw' and 'kyaw', 'saiyid' and 'sayyid',
    'fatimah' and 'fatima' meet; 'bush' and 'bash' do not."""
    if not form or form.isdigit():
        return form
    text = ""
    while text != form:  # until a pass changes nothing: the key of a key is itself
        text = form
        for a, b in _SPELLING_DIGRAPHS:
            form = form.replace(a, b)
        form = form[0].translate(_LEADING_CHARS) + form[1:].translate(_SPELLING_CHARS)
        form = _HARD_C.sub("k", _SOFT_C.sub("s", form))
        if len(form) > 3 and form.endswith("h") and form[-2] in "aeiou":
            form = form[:-1]
        form = _squeeze(form)
    return form


_NOT_AEIOU = re.compile(r"[aeiou]")
_REPEATS = re.compile(r"(.)\1+")


def _squeeze(text: str) -> str:
    """Each run of one letter as one letter ('sayyid' -> 'sayid')."""
    return _REPEATS.sub(r"\1", text)


_VOWEL_RUNS = re.compile(r"[aeiouy]+")
_TRANSLIT_DIGRAPHS = (
    ("dj", "j"), ("kh", "h"), ("gh", "g"), ("sh", "s"), ("ch", "s"), ("th", "t"),
    ("dh", "d"), ("zh", "j"), ("ph", "f"), ("ck", "k"), ("x", "ks"),
)  # fmt: skip


@lru_cache(maxsize=300_000)
def translit_key(form: str) -> str:
    """Spelling-independent form across romanisations: consonant classes kept, every
    run of vowels one 'a', a final 'h' after a vowel dropped: 'saiyid' and 'sayyid',
    'zayniyah' and 'zeiniye', 'exchange' and 'ekschange' meet."""
    text = form
    for a, b in _TRANSLIT_DIGRAPHS:
        text = text.replace(a, b)
    text = _VOWEL_RUNS.sub("a", text.translate(_SKELETON_CHARS))
    if text.endswith("ah"):
        text = text[:-1]
    return _squeeze(text)


@lru_cache(maxsize=300_000)
def consonants(form: str) -> str:
    """The word as written with its vowels dropped: 'khairy' -> 'khry',
    'management' -> 'mngmnt' (abbreviations and vowel-less transliterations)."""
    if not form or form.isdigit():
        return form
    out = [form[0]]
    for ch in _NOT_AEIOU.sub("", form[1:]):
        if ch != out[-1]:
            out.append(ch)
    return "".join(out)


ABJAD_SCRIPTS = frozenset({"ARABIC", "HEBREW", "SYRIAC", "THAANA"})
# Scripts written in syllables that romanise to whole name parts ('chen', 'gui').
SYLLABIC_SCRIPTS = frozenset({"CJK", "HANGUL", "HIRAGANA", "KATAKANA"})
_ABJAD_DROP = re.compile(r"[aeiouwy]")
_ABD_AL = frozenset("abdul abdel abdal abdol abdoul abdool abdelle abdil".split())


@lru_cache(maxsize=300_000)
def abjad_key(form: str) -> str:
    """What a name keeps when written in Arabic or Hebrew script and romanised letter
    by letter: consonants only (w and y are also vowels there), no article 'al-'.
    'almtsdq' (from المتصدق) and 'motassadeq' both give 'mtsdk'."""
    if form in _ABD_AL:
        return "bd"  # 'Abdul Rahman' is 'Abd al-Rahman': the article goes with the next word
    text = form
    if len(text) > 4 and text[:2] in ("al", "el"):
        text = text[2:]
    for a, b in _SKELETON_DIGRAPHS:
        text = text.replace(a, b)
    text = _ABJAD_DROP.sub("", text).replace("c", "s").translate(_SKELETON_CHARS)
    return _squeeze(text)


_OCR_PAIRS = (
    ("rn", "m"), ("cl", "d"), ("vv", "w"), ("ii", "u"), ("l", "i"), ("1", "i"), ("0", "o"),
    ("5", "s"), ("8", "b"), ("6", "g"), ("2", "z"), ("f", "e"), ("c", "e"), ("b", "h"),
)  # fmt: skip


# Characters OCR reads for one another, one letter per class: what a short word
# ('R1' for 'RI', '5' for 'S', 'FP' for 'EP') looks like to a scanner.
OCR_CLASSES = str.maketrans(
    {"1": "i", "l": "i", "0": "o", "5": "s", "8": "b", "h": "b", "6": "g", "2": "z", "f": "e",
     "c": "e"}
)  # fmt: skip


@lru_cache(maxsize=300_000)
def ocr_form(form: str) -> str:
    """The form OCR confusions collapse to: 'rn'->'m', 'cl'->'d', 'l'->'i' ..."""
    text = form
    for a, b in _OCR_PAIRS:
        text = text.replace(a, b)
    return text


@lru_cache(maxsize=300_000)
def phonetic(form: str) -> str:
    """Metaphone key (rigour), empty for numbers and very short words."""
    if len(form) < 3 or form.isdigit():
        return ""
    return metaphone(form)


def deletions(form: str) -> list[str]:
    """Every form with one character deleted (SymSpell keys): finds typos in O(len)."""
    return [form[:i] + form[i + 1 :] for i in range(len(form))]


_SYLLABLE = re.compile(r"^[a-z]?[aeiouy]")


@lru_cache(maxsize=200_000)
def token_keys(form: str, full: bool = True) -> tuple[str, ...]:
    """Blocking keys of one token: exact, one-deletion, skeleton, OCR, consonants.
    ``full=False`` (query parts joined together): exact and skeleton only."""
    if not full:
        skel = skeleton(form)
        return ("d:" + form, "s:" + skel) if len(skel) >= 3 else ("d:" + form,)
    keys = ["d:" + form]
    if len(form) >= 4 and not form.isdigit():
        keys.extend("d:" + d for d in deletions(form))
    # No metaphone key: it finds three times more words than any other key, and the
    # skeleton and consonant keys already find the ones that turn out alike. The
    # spelling key finds other romanisations ('ruse' / 'roose', 'paq' / 'pak').
    spelled = spelling_key(form)
    if len(spelled) >= 3 or (len(spelled) == 2 and _SYLLABLE.match(spelled)):
        # Two letters too, a syllable's: a short name's other romanisation ('yoo' / 'yu',
        # 'lee' / 'li') shares no other key with it, and token_similarity pairs them.
        # (Not two consonants: 'RS' is an abbreviation, found by its consonants.)
        keys.append("k:" + spelled)
    skel = skeleton(form)
    if len(skel) >= 3:
        keys.append("s:" + skel)
    ocr = ocr_form(form)
    if len(ocr) >= 3:
        keys.append("o:" + ocr)
    cons = consonants(form)
    if len(cons) >= 3:
        keys.append("c:" + cons)
    abjad = abjad_key(form)
    if len(abjad) >= 2 and len(form) >= 2:
        keys.append("a:" + abjad)
    return tuple(keys)
