"""The Synthesizer pipeline on NVIDIA's tiny golden models (8 mels): lengths, seeds, limits, errors."""
from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch

from tacotron2_waveglow.bundles import TextProcessor
from tacotron2_waveglow.synthesis import Synthesizer
from tacotron2_waveglow.synthesis.inference import InferenceConfig
from tacotron2_waveglow.synthesis.split import max_chars_for_steps
from text import text_to_sequence

HOP = 256


def _smallest_waveglow():
    """A random 8-mel WaveGlow far smaller than the golden one: vocoding 80 pieces stays cheap."""
    from waveglow import WaveGlow, WaveGlowConfig

    torch.manual_seed(0)
    return WaveGlow(WaveGlowConfig.from_dict({"n_mel_channels": 8, "n_flows": 2, "n_group": 8, "n_early_every": 4,
                                              "n_early_size": 2,
                                              "WN_config": {"n_layers": 1, "kernel_size": 3, "n_channels": 4}}))


def _cpu(taco, glow=None, **kw):
    return Synthesizer(taco, glow, device="cpu", denoiser_strength=0.0, progress=False, **kw)


def test_matches_manual_tacotron2_then_waveglow_chain(tiny_models):
    taco, glow = tiny_models
    text = "Hello world."
    result = _cpu(taco, glow).synthesize(text, seed=7, sigma=0.6)
    # the same calls by hand, as in NVIDIA's example, with the same seed
    ids = torch.tensor([text_to_sequence(text, ["english_cleaners"])])
    torch.manual_seed(7)
    with torch.no_grad():
        mel, lengths, alignments = taco.infer(ids, torch.tensor([ids.shape[1]]))
        audio = glow.infer(mel, sigma=0.6)
    n = int(lengths[0])
    assert result.sentences == [[text]]
    assert result.mel_lengths == [[n]]
    np.testing.assert_allclose(result.mels[0][0], mel[0, :, :n].numpy(), atol=1e-6)
    np.testing.assert_allclose(result.alignments[0][0], alignments[0, :n].numpy(), atol=1e-6)
    np.testing.assert_allclose(result.audio[0], audio[0, :n * HOP].numpy(), atol=1e-6)
    assert result.audio[0].dtype == np.float32 and result.sampling_rate == 22050


@pytest.mark.filterwarnings("ignore:.*reached max_decoder_steps")
def test_length_is_pieces_plus_pauses(tiny_models):
    synth = _cpu(tiny_models[0], _smallest_waveglow(), pause_seconds=0.1)
    result = synth.synthesize(["First one. Second! Third?", "Alone."], seed=1, batch_size=4)
    assert len(result) == 2 and len(result.sentences[0]) >= 3
    for audio, lengths in zip(result.audio, result.mel_lengths):
        assert len(audio) == sum(lengths) * HOP + (len(lengths) - 1) * round(0.1 * 22050)
    assert result.mel(0).shape == (8, sum(result.mel_lengths[0]))
    assert result.alignment(0).shape[0] == sum(result.mel_lengths[0])


def test_seed_reproducible(tiny_models):
    taco, glow = tiny_models[0], _smallest_waveglow()
    synth = _cpu(taco, glow)
    texts = ["One. Two.", "Six."]
    a = synth.synthesize(texts, seed=3, batch_size=4)
    torch.manual_seed(12345)  # global RNG state before the call must not matter
    b = synth.synthesize(texts, seed=3, batch_size=4)
    for x, y in zip(a.audio, b.audio):
        np.testing.assert_array_equal(x, y)


def test_griffin_lim_needs_no_vocoder(tiny_models):
    taco, _ = tiny_models
    result = _cpu(taco, vocoder="griffin-lim", griffin_lim_iters=2).synthesize("Hi there.", seed=0)
    assert len(result.audio[0]) == result.mel_lengths[0][0] * HOP
    assert np.isfinite(result.audio[0]).all() and np.abs(result.audio[0]).max() > 0


def test_denoiser_changes_audio_but_not_length(tiny_models):
    taco, glow = tiny_models[0], _smallest_waveglow()
    plain = _cpu(taco, glow).synthesize("Hello.", seed=5)
    denoised = _cpu(taco, glow).synthesize("Hello.", seed=5, denoise=0.5)
    assert plain.audio[0].shape == denoised.audio[0].shape
    assert not np.array_equal(plain.audio[0], denoised.audio[0])


def test_step_limit_warning_names_the_piece(tiny_models):
    taco, glow = tiny_models
    with pytest.warns(UserWarning, match="reached max_decoder_steps.*'Hello world.'"):
        result = _cpu(taco, glow).synthesize("Hello world.", seed=0, max_decoder_steps=2)
    assert result.reached_limit == [[True]]


def test_long_paragraph_split_so_no_piece_hits_the_limit(tiny_models):
    taco, glow = copy.deepcopy(tiny_models[0]), _smallest_waveglow()
    # a gate that fires early (bias 0 instead of the golden -0.4) stops each piece after a few frames
    taco.decoder.gate_layer.linear_layer.bias.data.fill_(0.0)
    sentence = "The quick brown fox, which was quite tired, jumped over the lazy dog; then it slept for a while. "
    paragraph = (sentence * 21)[:2000]
    synth = _cpu(taco, glow, pause_seconds=0.05)
    steps = 200
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*max_decoder_steps")  # no step-limit warning may appear
        with pytest.warns(UserWarning, match=r"stopped after fewer frames than characters.* and \d+ more"):
            result = synth.synthesize(paragraph, seed=0, batch_size=128, max_decoder_steps=steps)
    pieces = result.sentences[0]
    budget = max_chars_for_steps(steps)
    assert len(pieces) > 2000 // budget
    assert all(len(p) <= budget for p in pieces)
    assert " ".join(pieces).split() == paragraph.split()
    assert not any(result.reached_limit[0])
    assert all(n < steps for n in result.mel_lengths[0])
    assert len(result.audio[0]) == sum(result.mel_lengths[0]) * HOP + (len(pieces) - 1) * round(0.05 * 22050)


def test_nan_output_is_an_error(tiny_models):
    taco, glow = tiny_models
    broken = copy.deepcopy(taco)
    next(broken.postnet.parameters()).data.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="NaN"):
        _cpu(broken, glow).synthesize("Hello.", seed=0)


def test_end_punctuation_completes_pieces_only_when_asked(tiny_models):
    taco = tiny_models[0]
    text = "Hello world. And then, finally"
    plain = _cpu(taco, vocoder="griffin-lim").split(text)  # the tiny model's step limit splits at clauses too
    assert plain[0] == "Hello world." and plain[-1].endswith("finally") and len(plain) >= 2
    closing = _cpu(taco, vocoder="griffin-lim", text_processor=TextProcessor(end_punctuation="."))
    expected = [p if p.endswith(".") else p.rstrip(", ") + "." for p in plain]
    assert closing.split(text) == expected
    assert closing.synthesize("Hi there", seed=0).sentences == [["Hi there."]]


def test_folded_waveglow_gives_the_same_audio(tiny_models):
    taco, glow = tiny_models[0], _smallest_waveglow()
    plain = _cpu(taco, glow, fold_upsampler=False).synthesize("Hello world.", seed=7)
    folded = _cpu(taco, glow, fold_upsampler=True).synthesize("Hello world.", seed=7)
    assert folded.engines == {"tacotron2": "fast/fp32", "vocoder": "fast/fp32 folded"}  # the folded form ran
    assert plain.engines["vocoder"] == "fast/fp32"
    np.testing.assert_allclose(folded.audio[0], plain.audio[0], atol=1e-4, rtol=0)


def test_fp32_exact_is_the_reference_computation_bitwise(tiny_models):
    taco, glow = tiny_models[0], _smallest_waveglow()
    text = "Hello there."
    synth = _cpu(taco, glow, precision="fp32_exact")
    assert synth.engines == {"tacotron2": "fast/fp32_exact", "vocoder": "reference/fp32_exact"}
    result = synth.synthesize(text, seed=3, sigma=0.6)
    mel, audio = _manual(taco, glow, text, 3, tacotron2=dict(backend="reference"),
                         waveglow=dict(backend="reference"))
    assert result.mel_lengths == [[mel.shape[1]]]
    np.testing.assert_array_equal(result.mels[0][0], mel)
    np.testing.assert_array_equal(result.audio[0], audio)


@pytest.mark.slow
def test_int8_runs_the_int8_decoder_then_the_int8_waveglow(tiny_models):
    taco, glow = tiny_models[0], _smallest_waveglow()
    text = "Hello world."
    result = _cpu(taco, glow, precision="int8").synthesize(text, seed=7, sigma=0.6)
    mel, audio = _manual(taco, glow, text, 7, tacotron2=dict(precision="int8"), waveglow=dict(precision="int8"))
    assert result.mel_lengths == [[mel.shape[1]]]
    assert result.engines == {"tacotron2": "fast/int8", "vocoder": "fast/int8 folded"}
    np.testing.assert_allclose(result.mels[0][0], mel, atol=1e-6)
    np.testing.assert_allclose(result.audio[0], audio, atol=1e-5)


def _manual(taco, glow, text, seed, **options):
    ids = torch.tensor([text_to_sequence(text, ["english_cleaners"])])
    torch.manual_seed(seed)
    mel, lengths, _ = taco.infer(ids, torch.tensor([ids.shape[1]]), **options.get("tacotron2", {}))
    n = int(lengths[0])
    return mel[0, :, :n].numpy(), glow.infer(mel, sigma=0.6, **options.get("waveglow", {}))[0, :n * HOP].numpy()


@pytest.mark.filterwarnings("ignore:.*fewer frames than characters")
def test_bf16_is_the_bf16_decoder_and_the_bf16_waveglow_not_autocast(tiny_models):
    taco, glow = tiny_models[0], _smallest_waveglow()
    result = _cpu(taco, glow, precision="bf16").synthesize("Hello world.", seed=0, sigma=0.6)
    assert result.engines == {"tacotron2": "fast/bf16", "vocoder": "fast/bf16"}
    mel, audio = _manual(taco, glow, "Hello world.", 0, tacotron2=dict(precision="bf16"),
                         waveglow=dict(precision="bf16"))
    np.testing.assert_allclose(result.mels[0][0], mel, atol=1e-6)
    np.testing.assert_allclose(result.audio[0], audio, atol=1e-6)
    fp32_mel, _ = _manual(taco, glow, "Hello world.", 0)
    assert result.mels[0][0].shape != fp32_mel.shape or not np.array_equal(result.mels[0][0], fp32_mel)
    assert result.audio[0].dtype == np.float32


@pytest.mark.parametrize("options, engines", [
    (dict(backend="reference"), {"tacotron2": "reference/fp32", "vocoder": "reference/fp32"}),
    (dict(chunk_frames=3, overlap_frames=1), {"tacotron2": "fast/fp32", "vocoder": "fast/fp32 chunks of 3"}),
    (dict(stop_check_interval=1, fold_upsampler=True), {"tacotron2": "fast/fp32", "vocoder": "fast/fp32 folded"}),
])
def test_the_configuration_asked_for_is_the_one_that_runs(tiny_models, options, engines):
    taco, glow = tiny_models[0], _smallest_waveglow()
    synth = _cpu(taco, glow, inference=InferenceConfig(**options))
    result = synth.synthesize("Hello world.", seed=2, sigma=0.6)
    assert result.engines == engines == synth.engines
    mel, audio = _manual(taco, glow, "Hello world.", 2, tacotron2=synth.inference.tacotron2_options(),
                         waveglow=synth.inference.waveglow_options())
    np.testing.assert_array_equal(result.mels[0][0], mel)
    np.testing.assert_allclose(result.audio[0], audio, atol=1e-6)
    assert synth.prepare_seconds > 0 and synth.prepared_nbytes >= 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_cuda(tiny_models, precision):
    taco, glow = tiny_models
    result = Synthesizer(taco, glow, device="cuda", precision=precision, progress=False).synthesize("Hi.", seed=0)
    assert np.isfinite(result.audio[0]).all()
    assert len(result.audio[0]) == result.mel_lengths[0][0] * HOP


def test_invalid_arguments(tiny_models):
    taco, glow = tiny_models
    with pytest.raises(ValueError, match="precision='fp16' does not run on cpu; on cpu these do: .*fast/bf16"):
        _cpu(taco, glow, precision="fp16")
    with pytest.raises(ValueError, match="fp64"):
        _cpu(taco, glow, precision="fp64")
    with pytest.raises(ValueError, match="backend='cuda_graph' with precision='fp32' does not run on cpu"):
        _cpu(taco, glow, backend="cuda_graph")
    with pytest.raises(ValueError, match="onnxruntime.*separate model objects"):
        _cpu(taco, glow, backend="onnxruntime")
    with pytest.raises(ValueError, match="not both"):
        _cpu(taco, glow, precision="bf16", inference=InferenceConfig())
    with pytest.raises(ValueError, match="chunk_frames applies to the WaveGlow vocoder"):
        _cpu(taco, vocoder="griffin-lim", chunk_frames=10)
    with pytest.raises(ValueError, match="needs a WaveGlow"):
        _cpu(taco)
    with pytest.raises(ValueError, match="wavenet"):
        _cpu(taco, glow, vocoder="wavenet")
    synth = _cpu(taco, glow)
    with pytest.raises(ValueError, match="no letters"):
        synth.synthesize("...")
    with pytest.raises(ValueError, match="no text"):
        synth.synthesize([])
    with pytest.raises(TypeError, match="int"):
        synth.synthesize(["ok", 3])
    with pytest.raises(ValueError, match="batch_size"):
        synth.synthesize("Hi.", batch_size=0)


def test_mel_channel_mismatch(tiny_models):
    from waveglow import WaveGlow, WaveGlowConfig

    taco, _ = tiny_models
    other = WaveGlow(WaveGlowConfig.from_dict({"n_mel_channels": 4, "n_flows": 4, "n_group": 8, "n_early_every": 2,
                                               "n_early_size": 2,
                                               "WN_config": {"n_layers": 2, "kernel_size": 3, "n_channels": 8}}))
    with pytest.raises(ValueError, match="8 mel channels but WaveGlow expects 4"):
        _cpu(taco, other)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_requested_without_gpu(tiny_models):
    with pytest.raises(ValueError, match="CUDA is not available"):
        Synthesizer(*tiny_models, device="cuda")


def test_one_vocabulary_for_both_models_and_the_pipeline():
    import tacotron2
    import waveglow
    from tacotron2_waveglow.synthesis import inference

    assert tacotron2.BACKENDS == waveglow.BACKENDS == inference.BACKENDS
    assert tacotron2.PRECISIONS == waveglow.PRECISIONS == inference.PRECISIONS
    config = InferenceConfig(precision="fp32_exact", chunk_frames=64)
    assert config.tacotron2_options() == {"backend": None, "precision": "fp32_exact", "stop_check_interval": None}
    assert config.waveglow_options()["backend"] == "reference"  # fp32_exact: WaveGlow's bitwise computation
    assert config.replace(backend="cuda_graph").waveglow_options()["backend"] == "cuda_graph"
    with pytest.raises(ValueError, match="precision must be one of"):
        InferenceConfig(precision="float16")
    with pytest.raises(ValueError, match="backend must be one of"):
        InferenceConfig(backend="faithful")


def test_cli_runs_the_backend_and_chunking_it_was_asked_for(cli, tmp_path, tiny_tacotron2_path, tiny_waveglow_path,
                                                            tiny_models):
    out = tmp_path / "a.wav"
    status, _, stderr = cli(["Hello world.", "-o", str(out), "--seed", "2", "--backend", "reference",
                             "--chunk-frames", "3", "--denoise", "0", "--tacotron2", str(tiny_tacotron2_path),
                             "--waveglow", str(tiny_waveglow_path)])
    assert status == 0, stderr
    assert "inference: Tacotron 2 reference/fp32, vocoder reference/fp32 chunks of 3" in stderr
    from audio import load_wav

    taco, glow = tiny_models
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, audio = _manual(taco, glow, "Hello world.", 2, tacotron2=dict(backend="reference"),
                           waveglow=dict(backend="reference", chunk_frames=3))
    written = load_wav(out).numpy()
    assert len(written) == len(audio)
    np.testing.assert_allclose(written, np.clip(audio, -1, 32767 / 32768), atol=2 / 32768)
