"""torch.hub drop-in: NVIDIA's entry point names, arguments and example call chain, from a local checkout."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO_DIR = str(Path(__file__).resolve().parents[1])

TINY_TACOTRON2 = dict(n_mel_channels=8, symbols_embedding_dim=16, encoder_embedding_dim=16, attention_rnn_dim=16,
                      attention_dim=8, attention_location_n_filters=2, decoder_rnn_dim=16, prenet_dim=8,
                      postnet_embedding_dim=8, max_decoder_steps=10)
TINY_WAVEGLOW = dict(n_mel_channels=8, n_flows=4, n_group=8, n_early_every=2, n_early_size=2, n_layers=2,
                     n_channels=8, kernel_size=3)


def _load(name, **kwargs):
    return torch.hub.load(REPO_DIR, name, source="local", trust_repo=True, **kwargs)


def test_tacotron2_entry_point_applies_config_overrides():
    model = _load("nvidia_tacotron2", pretrained=False, **TINY_TACOTRON2)
    assert model.config.n_mel_channels == 8 and model.config.encoder_embedding_dim == 16
    assert model.config.n_symbols == 148  # NVIDIA's default kept


def test_waveglow_entry_point_applies_top_level_and_wn_overrides():
    model = _load("nvidia_waveglow", pretrained=False, **TINY_WAVEGLOW)
    assert model.config.n_flows == 4 and model.config.WN_config.n_channels == 8


@pytest.mark.filterwarnings("ignore:Tacotron2.infer reached max_decoder_steps")
def test_nvidia_example_chain():
    """The calls of NVIDIA's torch.hub example, with tiny random models."""
    torch.manual_seed(0)
    tacotron2 = _load("nvidia_tacotron2", pretrained=False, model_math="fp32", **TINY_TACOTRON2).eval()
    waveglow = _load("nvidia_waveglow", pretrained=False, model_math="fp32", **TINY_WAVEGLOW)
    waveglow = waveglow.remove_weightnorm(waveglow)
    waveglow.eval()
    utils = _load("nvidia_tts_utils")
    sequences, lengths = utils.prepare_input_sequence(["Hello world, I missed you so much."], cpu_run=True)
    with torch.no_grad():
        mel, mel_lengths, alignments = tacotron2.infer(sequences, lengths)
        audio = waveglow.infer(mel)
    assert mel.shape[:2] == (1, 8) and alignments.shape[2] == sequences.shape[1]
    assert audio.shape == (1, mel.shape[2] * 256)
    assert torch.isfinite(audio).all()


def test_utils_match_text_package():
    from text import text_to_sequence

    utils = _load("nvidia_tts_utils")
    texts = ["Hi.", "A longer sentence."]
    padded, lengths = utils.prepare_input_sequence(texts, cpu_run=True)
    expected = sorted((text_to_sequence(t, ["english_cleaners"]) for t in texts), key=len, reverse=True)
    assert lengths.tolist() == [len(e) for e in expected]
    for row, ids in zip(padded, expected):
        assert row[:len(ids)].tolist() == ids and row[len(ids):].eq(0).all()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_prepare_input_sequence_without_cuda_warns_and_stays_on_cpu():
    utils = _load("nvidia_tts_utils")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        padded, _ = utils.prepare_input_sequence(["Hi."])
    assert padded.device.type == "cpu"


def test_bad_arguments():
    with pytest.raises(ValueError, match="fp64"):
        _load("nvidia_tacotron2", pretrained=False, model_math="fp64")
    with pytest.warns(UserWarning, match="not_an_option"):
        _load("nvidia_waveglow", pretrained=False, not_an_option=1, **TINY_WAVEGLOW)


def test_pretrained_entry_point_uses_the_cache(tmp_path, monkeypatch, golden_dir):
    """pretrained=True reads NVIDIA's file name from the hub cache (placed there by hand: no network)."""
    import shutil

    monkeypatch.setenv("TACOTRON2_CHECKPOINT_DIR", str(tmp_path))
    shutil.copy(golden_dir / "waveglow_tiny_ngc_fp16.pt", tmp_path / "nvidia_waveglowpyt_fp16_20190427")
    model = _load("nvidia_waveglow", model_math="fp16")
    assert model.config.n_mel_channels == 8
    assert next(model.parameters()).dtype == torch.float32
    shutil.copy(golden_dir / "tacotron2_tiny_ngc.pt", tmp_path / "nvidia_tacotron2pyt_fp32_20190427")
    model = _load("nvidia_tacotron2", max_decoder_steps=5)  # a shape-neutral override applies to pretrained too
    assert model.config.max_decoder_steps == 5 and model.config.n_mel_channels == 8


def test_untrained_tacotron2_has_nvidias_entry_point_config():
    # the literal of NVIDIA DLE's nvidia_tacotron2(pretrained=False), tacotron2/entrypoints.py
    nvidia = {'mask_padding': False, 'n_mel_channels': 80, 'n_symbols': 148, 'symbols_embedding_dim': 512,
              'encoder_kernel_size': 5, 'encoder_n_convolutions': 3, 'encoder_embedding_dim': 512,
              'attention_rnn_dim': 1024, 'attention_dim': 128, 'attention_location_n_filters': 32,
              'attention_location_kernel_size': 31, 'n_frames_per_step': 1, 'decoder_rnn_dim': 1024,
              'prenet_dim': 256, 'max_decoder_steps': 1000, 'gate_threshold': 0.5, 'p_attention_dropout': 0.1,
              'p_decoder_dropout': 0.1, 'postnet_embedding_dim': 512, 'postnet_kernel_size': 5,
              'postnet_n_convolutions': 5, 'decoder_no_early_stopping': False}
    assert _load("nvidia_tacotron2", pretrained=False).config.to_dict() == nvidia
    assert _load("nvidia_tacotron2", pretrained=False, mask_padding=True).config.mask_padding is True


def test_max_decoder_steps_warning_names_the_callers_line():
    import warnings

    tacotron2 = _load("nvidia_tacotron2", pretrained=False, **{**TINY_TACOTRON2, "max_decoder_steps": 2}).eval()
    utils = _load("nvidia_tts_utils")
    sequences, lengths = utils.prepare_input_sequence(["Hello world."], cpu_run=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.manual_seed(0)
        tacotron2.infer(sequences, lengths, early_stopping=True)
    limit = [w for w in caught if "max_decoder_steps" in str(w.message)]
    assert limit, "the tiny random model was expected to hit the 2-step limit"
    assert limit[0].filename == __file__, limit[0].filename
