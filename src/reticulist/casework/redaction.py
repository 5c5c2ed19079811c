"""Marking text for a subject access bundle (pure: text in, marked pieces out).

A bundle is a review copy for the data protection officer, not the answer itself. Three things in it need
a decision before anything is released, and this module finds them:

- **Other people's details** (UK GDPR Article 15(4); DPA 2018 Schedule 2 paragraph 16): the names and
  identifiers of the family's other members where the text mentions them. Kept and marked, because
  whether to redact depends on consent and reasonableness, which the officer weighs.
- **Shielded details** ("do not disclose location"): a shielded address is never copied into a bundle,
  not even into a note that mentions it; the text says "[shielded address withheld]" instead, and the
  item is flagged so the officer knows something was held back.
- **Child abuse data** (DPA 2018 Schedule 3 Part 5 paragraph 21): where the subject is a child, records
  that say whether the child is or has been abused or at risk of it. When a person with parental
  responsibility asks, these may be withheld if releasing them would not be in the child's best
  interests. The words that suggest such data are marked; the officer decides.

The matching is by regular expression over the whole text (one compiled pattern per bundle), case-blind,
on word boundaries, longest term first, so "Jo Marsh" is one mention rather than two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

THIRD_PARTY = "third_party"
SHIELDED = "shielded"
CHILD_ABUSE = "child_abuse_data"
WITHHELD = "[shielded address withheld]"

# Words that suggest a record is about abuse or the risk of it. Deliberately broad: a false mark costs the
# officer a look; a missed one could put a child at risk when a parent asks.
CHILD_ABUSE_WORDS = (
    "abuse",
    "abused",
    "abusive",
    "neglect",
    "neglected",
    "significant harm",
    "harm",
    "harmed",
    "self-harm",
    "at risk",
    "risk of",
    "child protection",
    "section 47",
    "s47",
    "section 17",
    "strategy meeting",
    "strategy discussion",
    "exploitation",
    "exploited",
    "grooming",
    "groomed",
    "domestic abuse",
    "domestic violence",
    "assault",
    "assaulted",
    "injury",
    "injuries",
    "bruise",
    "bruises",
    "bruising",
    "sexual",
    "fgm",
    "female genital mutilation",
    "smacked",
    "hit",
    "hitting",
    "coercive",
    "honour-based",
    "trafficking",
    "mash",
)


# How a family member is often named in notes by their relationship ("Mum said..."): marked as that
# member's detail unless the subject has the same relationship (then the word may be about the subject).
RELATIONSHIP_WORDS: dict[str, tuple[str, ...]] = {
    "mother": ("mum", "mummy", "mother", "mom"),
    "father": ("dad", "daddy", "father"),
    "step_parent": ("stepmum", "stepdad", "step-mum", "step-dad", "stepmother", "stepfather"),
    "grandparent": ("nan", "nana", "gran", "grandma", "grandad", "granddad", "grandmother", "grandfather"),
    "sibling": ("brother", "sister"),
    "kinship_carer": ("carer",),
    "foster_carer": ("foster carer",),
}


@dataclass(frozen=True)
class Piece:
    """A run of text and what it is: plain (``mark`` None), another person's detail, a withheld shielded
    detail, or a word suggesting child abuse data."""

    text: str
    mark: str | None = None
    who: str = ""  # whose detail, for a third party's


@dataclass(frozen=True)
class Terms:
    """What to look for in one bundle: other people's details (term -> whose), shielded details, and
    whether to mark child abuse words (only when the subject is a child)."""

    third_party: dict[str, str]
    shielded: tuple[str, ...]
    child_abuse: bool

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """One pattern for the whole bundle, compiled once."""
        groups = []
        if self.shielded:
            groups.append(f"(?P<shielded>{_alternation(self.shielded)})")
        if self.third_party:
            groups.append(f"(?P<third_party>{_alternation(self.third_party)})")
        if self.child_abuse:
            groups.append(f"(?P<child_abuse>{_alternation(CHILD_ABUSE_WORDS)})")
        if not groups:
            return None
        return re.compile(r"(?<!\w)(?:" + "|".join(groups) + r")(?!\w)", re.IGNORECASE)

    @cached_property
    def whose(self) -> dict[str, str]:
        """Whose a third party's term is, by its words without spaces or commas, ignoring case."""
        return {_squeezed(term): who for term, who in self.third_party.items()}


def _alternation(terms: Iterable[str]) -> str:
    unique = sorted({t for t in terms if t}, key=lambda t: (-len(t), t))
    return "|".join(_flexible(t) for t in unique)


def _flexible(term: str) -> str:
    """The term as a pattern where any run of spaces or commas between words matches any other, so
    "1 Canal Row, Brempton" is found written across two lines, and "BN2 9ZZ" as "BN29ZZ"."""
    words = [re.escape(w) for w in re.split(r"[\s,]+", term.strip()) if w]
    return r"[\s,]*".join(words)


def mark(text: str, terms: Terms) -> list[Piece]:
    """The text cut into pieces, each marked for what it is; a shielded detail's text is replaced."""
    pattern = terms.pattern
    if not text or pattern is None:
        return [Piece(text)] if text else []
    pieces: list[Piece] = []
    at = 0
    for found in pattern.finditer(text):
        if found.start() > at:
            pieces.append(Piece(text[at : found.start()]))
        kind = found.lastgroup
        if kind == "shielded":
            pieces.append(Piece(WITHHELD, SHIELDED))
        elif kind == "third_party":
            said = found.group(0)
            pieces.append(Piece(said, THIRD_PARTY, terms.whose.get(_squeezed(said), "")))
        else:
            pieces.append(Piece(found.group(0), CHILD_ABUSE))
        at = found.end()
    if at < len(text):
        pieces.append(Piece(text[at:]))
    return _one_withheld_per_run(pieces)


def _one_withheld_per_run(pieces: list[Piece]) -> list[Piece]:
    """An address and its postcode side by side are one withheld detail, not two: two would read oddly
    and say the address had two parts."""
    kept: list[Piece] = []
    for piece in pieces:
        if (
            piece.mark == SHIELDED
            and len(kept) >= 2
            and kept[-1].mark is None
            and not kept[-1].text.strip(" ,\t\n()")
            and kept[-2].mark == SHIELDED
        ):
            kept.pop()  # the spaces, commas or brackets between them
            continue
        if piece.mark == SHIELDED and kept and kept[-1].mark == SHIELDED:
            continue
        kept.append(piece)
    return kept


def _squeezed(text: str) -> str:
    return re.sub(r"[\s,]+", "", text).casefold()


def marks_in(pieces: Iterable[Piece]) -> set[str]:
    return {p.mark for p in pieces if p.mark}


def name_terms(forenames: str, surname: str, known_as: str, *, subject_surname: str) -> set[str]:
    """How a family member may be named in free text: full name, each first name, the name they are
    known by, and the surname unless it is the subject's own (a shared family surname says nothing about
    which of them is meant, and marking it everywhere would bury the real mentions)."""
    terms = {f"{forenames} {surname}".strip()}
    terms.update(w for w in forenames.split() if len(w) > 1)
    if known_as.strip():
        terms.add(known_as.strip())
        terms.add(f"{known_as.strip()} {surname}".strip())
    if surname.strip() and surname.casefold() != subject_surname.casefold():
        terms.add(surname.strip())
    return {t for t in terms if len(t) > 1}


def address_terms(lines: str, postcode: str) -> set[str]:
    """How an address may be written in free text: the whole address, its first line, its postcode (with
    or without the space: the pattern allows both)."""
    parts = [p.strip() for p in re.split(r"[\n,]+", lines) if p.strip()]
    terms = set()
    if lines.strip():
        terms.add(" ".join(lines.split()))
    if parts and len(parts[0]) > 3:
        terms.add(parts[0])
    if postcode.strip():
        terms.add(postcode.strip())
    return terms
