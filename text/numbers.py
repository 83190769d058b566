"""Number normalisation for English text, identical to NVIDIA's Tacotron 2 front end.

Applied in this order (each step sees the previous step's output):

1. thousands separators are removed from digit groups (``1,000,000`` -> ``1000000``);
2. pounds: ``£12`` -> ``12 pounds`` (note that ``english_cleaners`` transliterates
   to ASCII first, which turns ``£`` into ``PS``, so in practice this never fires
   there, exactly as in the reference);
3. dollars: ``$5.50`` -> ``5 dollars, 50 cents`` (spelled by step 6);
4. decimals: ``3.14`` -> ``3 point 14``;
5. ordinals: ``22nd`` -> ``twenty-second``;
6. remaining digit runs: years 1001-2999 are read as years
   (``1905`` -> ``nineteen oh five``, ``2008`` -> ``two thousand eight``),
   everything else as a cardinal without "and" (``104`` -> ``one hundred four``).

Spelling is done by the ``inflect`` package, as in the reference; it is
imported only when a text holds a digit (importing it costs seconds). Numbers of
10**36 and above, which inflect cannot spell (NVIDIA's code crashes there),
raise a ``ValueError``.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    import inflect

_COMMA_NUMBER_RE = re.compile(r"([0-9][0-9,]+[0-9])")
_DECIMAL_NUMBER_RE = re.compile(r"([0-9]+\.[0-9]+)")
_POUNDS_RE = re.compile(r"£([0-9,]*[0-9]+)")
_DOLLARS_RE = re.compile(r"\$([0-9.,]*[0-9]+)")
_ORDINAL_RE = re.compile(r"[0-9]+(st|nd|rd|th)")
_NUMBER_RE = re.compile(r"[0-9]+")


_MAX_DIGITS = 36  # inflect spells numbers below 10**36


def _too_large(number: str) -> ValueError:
    return ValueError(
        f"number {number!r:.60} is too large to spell out (inflect stops below 10**36); "
        "split it into shorter groups of digits or write it in words"
    )


def _checked_int(digits: str) -> int:
    """``int(digits)``, refusing numbers too long for inflect before converting them."""
    if len(digits.lstrip("0")) > _MAX_DIGITS:
        raise _too_large(digits)
    return int(digits)


def _unit(count: int, singular: str, plural: str) -> str:
    return singular if count == 1 else plural


def _dollars_to_words(amount: str) -> str:
    """Rewrite a dollar amount such as ``"5.50"`` as ``"5 dollars, 50 cents"``.

    The digits are left for the final cardinal pass to spell, as in the
    reference (so ``$105`` reads "one hundred five dollars", without "and").
    """
    parts = amount.split(".")
    if len(parts) > 2 or "," in amount:
        # Not a well-formed amount: keep the digits. (A comma left over after the
        # thousands separators were removed, e.g. "$,5", crashes NVIDIA's code.)
        return amount + " dollars"
    dollars = _checked_int(parts[0]) if parts[0] else 0
    cents = _checked_int(parts[1]) if len(parts) > 1 and parts[1] else 0
    spelled = []
    if dollars:
        spelled.append(f"{dollars} {_unit(dollars, 'dollar', 'dollars')}")
    if cents:
        spelled.append(f"{cents} {_unit(cents, 'cent', 'cents')}")
    return ", ".join(spelled) if spelled else "zero dollars"


def _spell(engine: inflect.engine, number: Union[int, str], **options: Any) -> str:
    """``engine.number_to_words`` with a ``ValueError`` for numbers inflect cannot spell."""
    import inflect

    try:
        return engine.number_to_words(number, **options)
    except inflect.NumOutOfRangeError:
        raise _too_large(str(number)) from None


def _number_to_words(digits: str, engine: inflect.engine) -> str:
    """Spell a run of digits as a whole number, reading 1001..2999 as a year."""
    number = _checked_int(digits)
    if not 1000 < number < 3000:
        return _spell(engine, number, andword="")
    if number == 2000:
        return "two thousand"
    if 2000 < number < 2010:
        return "two thousand " + engine.number_to_words(number % 100)
    if number % 100 == 0:
        return engine.number_to_words(number // 100) + " hundred"
    pairs = _spell(engine, number, andword="", zero="oh", group=2)
    return pairs.replace(", ", " ")


def _ordinal_to_words(match: "re.Match[str]", engine: inflect.engine) -> str:
    """Spell an ordinal such as ``22nd`` (inflect keeps its "and": ``101st`` -> "one hundred and first")."""
    _checked_int(match.group(0)[:-2])
    return _spell(engine, match.group(0))


def normalize_numbers(text: str) -> str:
    """Spell out the numbers, amounts and ordinals in ``text`` (see module docstring)."""
    if _NUMBER_RE.search(text) is None:
        return text  # every step below needs a digit; skip importing inflect
    import inflect

    engine = inflect.engine()
    text = _COMMA_NUMBER_RE.sub(lambda m: m.group(1).replace(",", ""), text)
    text = _POUNDS_RE.sub(r"\1 pounds", text)
    text = _DOLLARS_RE.sub(lambda m: _dollars_to_words(m.group(1)), text)
    text = _DECIMAL_NUMBER_RE.sub(lambda m: m.group(1).replace(".", " point "), text)
    text = _ORDINAL_RE.sub(lambda m: _ordinal_to_words(m, engine), text)
    return _NUMBER_RE.sub(lambda m: _number_to_words(m.group(0), engine), text)
