"""Streaming synthesis: sentence by sentence, lazily, and equal to ``synthesize`` where it can be."""
import warnings

import numpy as np
import pytest
import torch

from tacotron2_waveglow.synthesis import Synthesizer
from tacotron2_waveglow.synthesis.streaming import SpeechChunk, stream_speech
from text import text_to_sequence

# Three sentences, longest first: synthesize(batch_size=1) then decodes them in text order too.
TEXT = "The quick brown fox jumps over it. A lazy dog sleeps. Then rain."


@pytest.fixture
def synthesizer(tiny_models):
    tacotron2, waveglow = tiny_models
    return Synthesizer(tacotron2, waveglow, device="cpu", denoiser_strength=0.0, max_chars=60,
                       pause_seconds=0.01, progress=False)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # random tiny weights hit max_decoder_steps
        return fn(*args, **kwargs)


def test_pieces_are_sentences_in_non_increasing_token_order(synthesizer):
    pieces = synthesizer.split(TEXT)
    assert len(pieces) == 3
    lengths = [len(text_to_sequence(p, ["english_cleaners"])) for p in pieces]
    assert lengths == sorted(lengths, reverse=True)


def test_stream_concatenates_to_seeded_synthesis(synthesizer):
    chunks = _quiet(lambda: list(stream_speech(synthesizer, TEXT, seed=3)))
    whole = _quiet(synthesizer.synthesize, TEXT, seed=3, batch_size=1)
    assert [c.text for c in chunks] == whole.sentences[0]
    assert [c.index for c in chunks] == [0, 1, 2]
    assert all(isinstance(c, SpeechChunk) and c.audio.dtype == np.float32 for c in chunks)
    assert [c.mel_length for c in chunks] == whole.mel_lengths[0]
    np.testing.assert_allclose(np.concatenate([c.audio for c in chunks]), whole.audio[0], atol=1e-6, rtol=0)
    assert np.all(chunks[1].audio[:synthesizer.pause_samples] == 0)


def test_first_chunk_arrives_before_later_sentences_are_decoded(synthesizer):
    encoded = []
    hook = synthesizer.tacotron2.encoder.register_forward_hook(lambda *args: encoded.append(1))
    try:
        stream = stream_speech(synthesizer, TEXT, seed=3)
        assert encoded == []  # nothing runs before the first item is asked for
        first = _quiet(next, stream)
        assert first.index == 0 and len(encoded) == 1
        _quiet(list, stream)
        assert len(encoded) == 3
    finally:
        hook.remove()


def test_stream_errors_at_call_time(synthesizer):
    with pytest.raises(TypeError, match="str"):
        stream_speech(synthesizer, ["a list"])
    with pytest.raises(ValueError, match="nothing|no letters"):
        stream_speech(synthesizer, "... !!")
    torch.manual_seed(0)


def test_stream_runs_the_synthesizers_inference_configuration(tiny_models):
    tacotron2, waveglow = tiny_models
    synth = Synthesizer(tacotron2, waveglow, device="cpu", denoiser_strength=0.0, max_chars=60, pause_seconds=0.01,
                        progress=False, precision="bf16", chunk_frames=4)
    chunks = _quiet(lambda: list(stream_speech(synth, TEXT, seed=3)))
    assert all(c.engines == {"tacotron2": "fast/bf16", "vocoder": "fast/bf16 chunks of 4"} for c in chunks)
    whole = _quiet(synth.synthesize, TEXT, seed=3, batch_size=1)
    np.testing.assert_allclose(np.concatenate([c.audio for c in chunks]), whole.audio[0], atol=1e-6)
