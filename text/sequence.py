"""Text <-> symbol id conversion, with NVIDIA's ``{ARPAbet}`` syntax.

``text_to_sequence`` gives exactly the ids of NVIDIA's front end: text outside
curly braces goes through the cleaners and then character by character into
ids; text inside braces is split on whitespace and each token is read as an
ARPAbet phoneme (``{HH AH0 L OW1}``). What NVIDIA drops silently we drop too,
so that checkpoints get the ids they were trained on, but we report it with a
:class:`DroppedSymbolsWarning`:

* characters that the cleaners' transliteration cannot map to ASCII (see
  :mod:`text.transliteration`; NVIDIA warns about these itself);
* characters that are not in the symbol table after cleaning (e.g. ``%``,
  ``"``, or ``é`` under ``basic_cleaners``) and the padding symbol ``_``;
* tokens inside braces that are not ARPAbet phonemes;
* text after a newline that follows a ``{...}`` block: NVIDIA's brace parser
  does not cross line breaks there and loses the rest of the input. Replace
  newlines by spaces to keep it.
"""
import operator
import re
import warnings
from typing import Iterable, List, Sequence, Tuple, Union

import torch

from text.cleaners import Cleaner, get_cleaner
from text.dropped import DroppedSymbols, DroppedSymbolsWarning, collecting
from text.symbols import ARPABET_PREFIX, NEVER_EMITTED, SYMBOL_TO_ID, symbols

# Same semantics as the reference: "." does not match a newline.
_CURLY_RE = re.compile(r"(.*?)\{(.+?)\}(.*)")
_SPACE_ID = SYMBOL_TO_ID[" "]

CleanerNames = Sequence[str]


def _resolve_cleaners(cleaner_names: CleanerNames) -> Tuple[Cleaner, ...]:
    if isinstance(cleaner_names, str):
        raise TypeError(
            f"cleaner_names must be a sequence of names such as ({cleaner_names!r},), "
            f"not the bare string {cleaner_names!r}"
        )
    return tuple(get_cleaner(name) for name in cleaner_names)


def _split_arpabet(text: str, dropped: DroppedSymbols) -> List[Tuple[str, bool]]:
    """Split ``text`` into ``(segment, is_arpabet)`` pairs as NVIDIA's parser does."""
    segments: List[Tuple[str, bool]] = []
    while text:
        match = _CURLY_RE.match(text)
        if match is None:
            segments.append((text, False))
            break
        segments.append((match.group(1), False))
        segments.append((match.group(2), True))
        if match.end() < len(text):
            dropped.add_lost_text(text[match.end():])
        text = match.group(3)
    return segments


def _clean(text: str, cleaners: Iterable[Cleaner]) -> str:
    for cleaner in cleaners:
        text = cleaner(text)
    return text


def _characters_to_ids(text: str, dropped: DroppedSymbols) -> List[int]:
    ids = []
    for character in text:
        if character in SYMBOL_TO_ID and character not in NEVER_EMITTED:
            ids.append(SYMBOL_TO_ID[character])
        else:
            dropped.add_character(character)
    return ids


def _arpabet_to_ids(text: str, dropped: DroppedSymbols) -> List[int]:
    ids = []
    for token in text.split():
        symbol = ARPABET_PREFIX + token
        if symbol in SYMBOL_TO_ID:
            ids.append(SYMBOL_TO_ID[symbol])
        else:
            dropped.add_phoneme(token)
    return ids


def text_to_sequence(text: str, cleaner_names: CleanerNames = ("english_cleaners",)) -> List[int]:
    """Convert ``text`` to symbol ids, exactly as NVIDIA's front end.

    Args:
        text: the input; may embed ARPAbet in braces, ``"Turn left on {HH AW1 S T AH0 N}."``.
        cleaner_names: cleaners applied in order to the text outside braces
            (see :data:`text.cleaners.CLEANERS`).

    Returns:
        ids in ``0 .. len(symbols) - 1``, one per kept character or phoneme.

    Raises:
        TypeError: ``text`` is not a ``str``, or ``cleaner_names`` is a bare string.
        ValueError: an unknown cleaner name, or nothing but spaces is left after
            cleaning and dropping (empty or whitespace-only text, or text made
            only of unsupported characters).

    Warns:
        DroppedSymbolsWarning: once per call, naming every dropped character,
            unknown phoneme or lost piece of text (see the module docstring).
            Cleaners report what they drop into this one warning.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}: {text!r:.80}")
    cleaners = _resolve_cleaners(cleaner_names)
    dropped = DroppedSymbols()
    sequence: List[int] = []
    for segment, is_arpabet in _split_arpabet(text, dropped):
        if is_arpabet:
            sequence += _arpabet_to_ids(segment, dropped)
        else:
            with collecting(dropped):
                cleaned = _clean(segment, cleaners)
            sequence += _characters_to_ids(cleaned, dropped)
    report = dropped.describe()
    if all(symbol_id == _SPACE_ID for symbol_id in sequence):
        detail = f" (dropped {report})" if report else ""
        raise ValueError(
            f"text {text!r:.200} has nothing to speak after cleaning with "
            f"{tuple(cleaner_names)}{detail}; give text with letters or {{ARPAbet}}"
        )
    if report:
        warnings.warn(f"text_to_sequence dropped {report}", DroppedSymbolsWarning, stacklevel=2)
    return sequence


def _as_id_list(sequence: Union[Sequence[int], torch.Tensor]) -> List[int]:
    if isinstance(sequence, torch.Tensor):
        if sequence.dim() != 1 or sequence.is_floating_point() or sequence.is_complex():
            raise ValueError(
                "sequence_to_text expects a 1-D integer tensor of ids, got "
                f"shape {tuple(sequence.shape)} dtype {sequence.dtype}"
            )
        return sequence.tolist()
    if isinstance(sequence, str):
        raise TypeError("sequence_to_text expects symbol ids, got a str; use text_to_sequence")
    try:
        return [operator.index(symbol_id) for symbol_id in sequence]
    except TypeError:
        raise TypeError(f"symbol ids must be integers, got {sequence!r:.200}") from None


def sequence_to_text(sequence: Union[Sequence[int], torch.Tensor]) -> str:
    """Convert symbol ids back to text, ARPAbet in braces (``{HH AH0 L OW1}``), as NVIDIA's.

    Args:
        sequence: ids, a list/tuple of ints or a 1-D integer tensor ``(T,)``.

    Raises:
        ValueError: an id outside ``0 .. len(symbols) - 1`` (NVIDIA skips them
            silently), or a tensor that is not 1-D integer.
        TypeError: ids that are not integers.
    """
    ids = _as_id_list(sequence)
    bad = [i for i in ids if not 0 <= i < len(symbols)]
    if bad:
        raise ValueError(f"symbol ids must be in 0..{len(symbols) - 1}, got {bad[:10]!r}")
    pieces = []
    for symbol_id in ids:
        symbol = symbols[symbol_id]
        if symbol.startswith(ARPABET_PREFIX) and len(symbol) > 1:
            symbol = "{" + symbol[len(ARPABET_PREFIX):] + "}"
        pieces.append(symbol)
    return "".join(pieces).replace("}{", " ")
