"""The ONNX Runtime backend against our PyTorch models: decoder step, whole infer, WaveGlow, the pipeline."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

from tacotron2.decoder_state import DecoderState  # noqa: E402
from tacotron2_waveglow.onnx import OnnxTacotron2, OnnxWaveGlow, load_onnx  # noqa: E402
from tacotron2_waveglow.synthesis import Synthesizer  # noqa: E402
from tacotron2_waveglow.synthesis.streaming import stream_speech  # noqa: E402

ATOL = 1e-5  # fp32 on CPU, as the PyTorch fast-vs-faithful tests


@pytest.fixture(scope="module")
def onnx_models(tiny_export):
    return load_onnx(tiny_export, threads=1)


def _text(batch_lengths, n_symbols, seed=3):
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(batch_lengths)
    text = torch.zeros(len(batch_lengths), max(batch_lengths), dtype=torch.long)
    for row, n in enumerate(batch_lengths):
        text[row, :n] = torch.randint(1, n_symbols, (n,), generator=generator)
    return text, lengths


def test_decoder_step_matches_decoder_step(onnx_models, tiny_models):
    taco, onnx_taco = tiny_models[0], onnx_models[0]
    c = taco.config
    batch, n = 3, 10
    memory = torch.randn(batch, n, c.encoder_embedding_dim)
    lengths = torch.tensor([6, 10, 3])
    mask = torch.arange(n)[None] >= lengths[:, None]
    state = DecoderState(*(torch.randn(t.shape) for t in DecoderState.zeros(memory, c.attention_rnn_dim,
                                                                            c.decoder_rnn_dim)))
    frame = torch.randn(batch, c.n_mel_channels)
    scales = [torch.bernoulli(torch.full((batch, c.prenet_dim), 0.5)) * 2 for _ in range(2)]
    with torch.no_grad():
        processed = taco.decoder.attention_layer.memory_layer(memory)
        torch.manual_seed(8)
        # the same scales as F.dropout's: run the prenet by hand with them, then the model's own step
        x = frame
        for linear, scale in zip(taco.decoder.prenet.layers, scales):
            x = torch.relu(linear(x)) * scale
        mel, gate, new = taco.decoder.step(x, state, memory, processed, mask)
    feed = {"frame": frame.numpy(), **{k: v.numpy() for k, v in zip(DecoderState._fields, state)},
            "memory": memory.numpy(), "processed_memory": processed.numpy(), "mask": mask.numpy(),
            "prenet_mask_1": scales[0].numpy(), "prenet_mask_2": scales[1].numpy()}
    out = onnx_taco.decoder_step(feed)
    np.testing.assert_allclose(out["mel_frame"], mel.numpy(), atol=ATOL, rtol=0)
    np.testing.assert_allclose(out["gate"], gate.numpy(), atol=ATOL, rtol=0)
    for name, value in zip(DecoderState._fields, new):
        np.testing.assert_allclose(out[f"new_{name}"], value.numpy(), atol=ATOL, rtol=0, err_msg=name)
    assert np.all(out["new_attention_weights"][mask.numpy()] == 0)


@pytest.mark.parametrize("method", ["reference", "fast"])
@pytest.mark.parametrize("lengths", [[12, 30, 7], [5]])
def test_seeded_infer_matches_pytorch(onnx_models, tiny_models, method, lengths):
    taco, onnx_taco = tiny_models[0], onnx_models[0]
    text, input_lengths = _text(lengths, taco.config.n_symbols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a random model's item may run into the step limit
        torch.manual_seed(21)
        want = taco.generate(text, input_lengths, backend=method)
        after_torch = torch.rand(4)
        torch.manual_seed(21)
        got = onnx_taco.infer(text, input_lengths, return_reached_limit=True)
        after_onnx = torch.rand(4)
    assert torch.equal(got.mel_lengths, want.mel_lengths) and got.mel_lengths.dtype == torch.int32
    assert torch.equal(got.reached_limit, want.reached_limit)
    torch.testing.assert_close(got.mel_postnet, want.mel_postnet, atol=ATOL, rtol=0)
    torch.testing.assert_close(got.alignments, want.alignments, atol=ATOL, rtol=0)
    assert torch.equal(after_onnx, after_torch)  # the same random numbers were drawn


def test_max_decoder_steps_limit_and_warning(onnx_models, tiny_models):
    taco, onnx_taco = tiny_models[0], onnx_models[0]
    text, lengths = _text([20, 9], taco.config.n_symbols)
    torch.manual_seed(2)
    with pytest.warns(RuntimeWarning):
        want = taco.generate(text, lengths, max_decoder_steps=3)
    torch.manual_seed(2)
    with pytest.warns(RuntimeWarning, match="max_decoder_steps=3"):
        got = onnx_taco.infer(text, lengths, max_decoder_steps=3, return_reached_limit=True)
    assert got.mel_postnet.shape[2] == 3 and bool(got.reached_limit.all())
    assert torch.equal(got.mel_lengths, want.mel_lengths)
    torch.testing.assert_close(got.mel_postnet, want.mel_postnet, atol=ATOL, rtol=0)


def test_without_prenet_dropout_and_early_stopping(onnx_models, tiny_models):
    taco, onnx_taco = tiny_models[0], onnx_models[0]
    text, lengths = _text([11, 16], taco.config.n_symbols)
    want = taco.infer(text, lengths, prenet_dropout=False, early_stopping=False, max_decoder_steps=15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no limit warning without early stopping
        got = onnx_taco.infer(text, lengths, prenet_dropout=False, early_stopping=False, max_decoder_steps=15)
    assert got.mel_postnet.shape == (2, taco.config.n_mel_channels, 15)
    assert torch.equal(got.mel_lengths, want.mel_lengths)
    torch.testing.assert_close(got.mel_postnet, want.mel_postnet, atol=ATOL, rtol=0)


@pytest.mark.parametrize("kwargs, error, fragment", [
    (dict(max_decoder_steps=0), ValueError, "max_decoder_steps must be a positive int"),
    (dict(precision="int8"), ValueError, "precision of its export"),
])
def test_infer_refuses_bad_arguments(onnx_models, kwargs, error, fragment):
    text, lengths = _text([4], 148)
    with pytest.raises(error, match=fragment):
        onnx_models[0].infer(text, lengths, **kwargs)


def test_infer_refuses_bad_text(onnx_models):
    with pytest.raises(ValueError, match="input_lengths"):
        onnx_models[0].infer(torch.ones(1, 4, dtype=torch.long), torch.tensor([5]))
    with pytest.raises(ValueError, match="symbol table"):
        onnx_models[0].infer(torch.full((1, 4), 500), torch.tensor([4]))


def test_waveglow_with_a_given_latent_matches_pytorch(onnx_models, tiny_models):
    glow, onnx_glow = tiny_models[1], onnx_models[1]
    mel = torch.randn(2, 8, 9)
    z = torch.randn(2, 8, 9 * 32)
    want = glow.infer(mel, 0.8, z, backend="reference")
    got = onnx_glow.infer(mel, 0.8, z)
    torch.testing.assert_close(got, want, atol=1e-4, rtol=0)
    torch.testing.assert_close(onnx_glow.infer(mel, 0.0, z), glow.infer(mel, 0.0, z), atol=1e-4, rtol=0)


def test_waveglow_seeded_latent_matches_pytorch(onnx_models, tiny_models):
    glow, onnx_glow = tiny_models[1], onnx_models[1]
    mel = torch.randn(1, 8, 6)
    torch.manual_seed(4)
    want = glow.infer(mel, 0.6)
    torch.manual_seed(4)
    got = onnx_glow.infer(mel, 0.6)
    torch.testing.assert_close(got, want, atol=1e-4, rtol=0)


def test_waveglow_refuses_bad_input(onnx_models):
    with pytest.raises(ValueError, match=r"mel must be \(B, 8, T_mel\)"):
        onnx_models[1].infer(torch.randn(1, 80, 4))
    with pytest.raises(ValueError, match="z must have shape"):
        onnx_models[1].infer(torch.randn(1, 8, 4), 0.6, torch.randn(1, 8, 10))


def test_synthesizer_end_to_end_matches_pytorch(tiny_export, tiny_models):
    text = ["A short sentence to speak.", "And a second, rather longer one, to batch with it."]
    onnx_synth = Synthesizer.from_onnx(tiny_export, device="cpu", progress=False)
    torch_synth = Synthesizer(*tiny_models, device="cpu", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a random tiny model stops early
        got = onnx_synth.synthesize(text, seed=5)
        want = torch_synth.synthesize(text, seed=5)
        streamed = [chunk.audio for chunk in stream_speech(onnx_synth, text[1], seed=9)]
        streamed_torch = [chunk.audio for chunk in stream_speech(torch_synth, text[1], seed=9)]
    assert got.mel_lengths == want.mel_lengths
    for a, b in zip(got.audio, want.audio):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=0)
    assert len(streamed) == len(streamed_torch)
    for a, b in zip(streamed, streamed_torch):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=0)


def test_from_onnx_refuses_another_precision(tiny_export):
    with pytest.raises(ValueError, match="drop precision='bf16'"):
        Synthesizer.from_onnx(tiny_export, precision="bf16")


def test_models_look_like_the_pytorch_ones(onnx_models, tiny_models):
    onnx_taco, onnx_glow = onnx_models
    assert onnx_taco.config == tiny_models[0].config and onnx_glow.config == tiny_models[1].config
    assert onnx_taco.to("cpu").eval() is onnx_taco and onnx_glow.to("cpu").eval() is onnx_glow
    assert isinstance(onnx_taco, OnnxTacotron2) and isinstance(onnx_glow, OnnxWaveGlow)
