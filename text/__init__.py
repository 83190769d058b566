"""Text front end identical to NVIDIA's Tacotron 2: symbols, cleaners, transliteration, ids, batching, CMUdict."""
from text.arpabet import to_arpabet
from text.batch import pad_sequences, prepare_input_sequence
from text.cleaners import basic_cleaners, english_cleaners, get_cleaner, transliteration_cleaners
from text.cmudict import CMUDict
from text.dropped import DroppedSymbolsWarning
from text.sequence import sequence_to_text, text_to_sequence
from text.symbols import symbols
from text.transliteration import transliterate

__all__ = [
    "CMUDict",
    "DroppedSymbolsWarning",
    "basic_cleaners",
    "english_cleaners",
    "get_cleaner",
    "pad_sequences",
    "prepare_input_sequence",
    "sequence_to_text",
    "symbols",
    "text_to_sequence",
    "to_arpabet",
    "transliterate",
    "transliteration_cleaners",
]
