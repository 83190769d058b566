"""int8 WaveGlow inference (``precision="int8"``) against the fp32 paths and closed-form bounds."""
import pytest
import torch
import torch.nn.functional as F
from torch._dynamo.utils import counters

from tests.waveglow.tiny import randomize, tiny_config
from waveglow import WaveGlow
from waveglow.chunked import exact_overlap_frames
from waveglow.inference import DOCUMENTED_RELATIVE_ERROR
from waveglow.int8_infer import Int8WaveGlow, quantize_columns, quantize_rows, quantize_taps
from waveglow.noise import draw_latent

FRAMES = 5


def _model(seed=3, **changes):
    torch.manual_seed(seed)
    model = randomize(WaveGlow(tiny_config(**changes)))
    with torch.no_grad():
        model.upsample.bias.normal_()
    return model


def _relative_error(estimate, reference):
    return float((estimate - reference).norm() / reference.norm())


def test_quantize_rows_is_within_half_a_step_and_keeps_each_row_peak():
    x = torch.randn(20, 30) * torch.logspace(-3, 2, 20)[:, None]  # rows of very different magnitudes
    codes, scale = quantize_rows(x)
    assert codes.dtype == torch.int8 and scale.shape == (20, 1)
    assert int(codes.abs().max()) == 127
    assert ((codes.float() * scale - x).abs() <= scale / 2 * (1 + 1e-5)).all()
    peaks = x.abs().argmax(1)
    torch.testing.assert_close((codes.float() * scale).gather(1, peaks[:, None]), x.gather(1, peaks[:, None]))


def test_quantize_columns_is_within_half_a_step_per_column():
    weight = torch.randn(30, 12) * torch.logspace(-2, 1, 12)
    codes, scale = quantize_columns(weight)
    assert codes.dtype == torch.int8 and scale.shape == (12,)
    assert ((codes.float() * scale - weight).abs() <= scale / 2 * (1 + 1e-5)).all()


@pytest.mark.parametrize("dilation", [1, 2, 4])
def test_quantized_taps_times_the_tap_matrix_is_the_dilated_convolution(dilation):
    torch.manual_seed(0)
    length, channels, out_channels = 40, 6, 5
    x = torch.randn(length, channels)
    weight = torch.randn(out_channels, channels, 3)
    codes, scale = quantize_taps(x, 3, dilation)
    assert codes.shape == (length, 3 * channels) and scale.shape == (length, 1)
    tap_matrix = weight.permute(2, 1, 0).reshape(3 * channels, out_channels)  # row j * C + c
    got = (codes.float() * scale) @ tap_matrix
    expected = F.conv1d(x.t()[None], weight, padding=dilation, dilation=dilation)[0].t()
    # every input is off by at most half its row's step, through |w| summed over the inputs of an output
    bound = scale / 2 * weight.abs().sum((1, 2)) + 1e-5
    assert ((got - expected).abs() <= bound).all()
    assert (got - expected).abs().max() > 0  # really quantized


@pytest.mark.parametrize("alternate_halves", [False, True])
def test_int8_is_close_to_faithful_fp32(alternate_halves):
    model = _model(alternate_halves=alternate_halves)
    mel = torch.randn(2, 8, FRAMES)
    torch.manual_seed(0)
    reference = model.infer(mel, 0.6, backend="reference")
    torch.manual_seed(0)  # the same noise, drawn in the same order
    got = Int8WaveGlow(model, compile=False).infer(mel, 0.6, draw_latent(model.config, 2, FRAMES * 32, mel.device))
    assert got.shape == reference.shape and got.dtype == torch.float32
    error = _relative_error(got, reference)
    assert 0 < error < DOCUMENTED_RELATIVE_ERROR["int8"]


def test_int8_batch_equals_each_item_alone():
    model = _model()
    form = Int8WaveGlow(model, compile=False)
    mel = torch.randn(3, 8, FRAMES)
    z = torch.randn(3, 8, FRAMES * 32)
    batch = form.infer(mel, 0.7, z)
    for b in range(3):
        torch.testing.assert_close(batch[b:b + 1], form.infer(mel[b:b + 1], 0.7, z[b:b + 1]), atol=1e-6, rtol=0)


def test_compiled_int8_equals_eager_for_several_lengths_from_one_graph():
    model = _model()
    compiled, eager = Int8WaveGlow(model), Int8WaveGlow(model, compile=False)
    torch._dynamo.reset()
    counters.clear()
    for frames in (FRAMES, FRAMES + 3, FRAMES + 7):
        mel = torch.randn(1, 8, frames)
        z = torch.randn(1, 8, frames * 32)
        with torch.inference_mode():
            torch.testing.assert_close(compiled.infer(mel, 0.6, z), eager.infer(mel, 0.6, z), atol=1e-4, rtol=1e-4)
    assert compiled._compiled  # no fallback to eager happened
    assert counters["stats"]["unique_graphs"] == 1  # every length and flow ran the same compiled graph


def test_prepared_int8_is_held_by_the_caller_and_compiled_while_preparing():
    model = _model()
    mel = torch.randn(1, 8, FRAMES)
    z = torch.randn(1, 8, FRAMES * 32)
    torch.manual_seed(5)
    prepared = model.prepare_inference(precision="int8")
    after_preparing = torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(after_preparing, torch.rand(3))  # preparing drew no random numbers
    assert isinstance(prepared.form, Int8WaveGlow) and prepared.form._compiled
    assert prepared.describe() == "fast/int8 folded" and prepared.nbytes > 0 and prepared.prepare_seconds > 0
    assert "_prepared" not in vars(model)  # nothing cached on the model
    got = prepared.infer(mel, 0.6, z)
    assert _relative_error(got, model.infer(mel, 0.6, z, backend="reference")) < DOCUMENTED_RELATIVE_ERROR["int8"]


def test_chunked_int8_with_the_exact_overlap_equals_unchunked_int8():
    model = _model()
    mel = torch.randn(1, 8, 9)
    z = torch.randn(1, 8, 9 * 32)
    whole = model.infer(mel, 0.6, z, precision="int8")
    chunked = model.infer(mel, 0.6, z, chunk_frames=4, overlap_frames=exact_overlap_frames(model.config),
                            precision="int8")
    torch.testing.assert_close(chunked, whole, atol=1e-4, rtol=0)


def test_int8_refuses_an_unfolded_upsampler_and_cuda():
    model = _model()
    with pytest.raises(ValueError, match="always folds"):
        model.infer(torch.zeros(1, 8, FRAMES), precision="int8", fold_upsampler=False)
    with pytest.raises(ValueError, match="on CUDA use 'fp16'"):
        Int8WaveGlow(model.to("meta"), compile=False)
    unfoldable = _model(n_group=6, n_early_size=2, n_early_every=4)
    with pytest.raises(ValueError, match="use 'bf16'"):
        unfoldable.infer(torch.zeros(1, 8, FRAMES), precision="int8")


def test_a_failed_compile_warns_and_runs_eagerly(monkeypatch):
    def broken_compile(function, **kwargs):
        def run(*args):
            raise RuntimeError("no C++ compiler")
        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    model = _model()
    mel = torch.randn(1, 8, FRAMES)
    z = torch.randn(1, 8, FRAMES * 32)
    form = Int8WaveGlow(model)
    with pytest.warns(RuntimeWarning, match=r"no C\+\+ compiler.*slower than precision='bf16'"):
        got = form.infer(mel, 0.6, z)
    torch.testing.assert_close(got, Int8WaveGlow(model, compile=False).infer(mel, 0.6, z))


@pytest.mark.slow
def test_int8_error_on_a_hub_size_model_is_within_the_documented_bound(onednn):
    from waveglow import WaveGlowConfig, WNConfig

    if not onednn:
        pytest.skip("runs its fp32 reference with oneDNN on either way")

    torch.manual_seed(0)
    model = randomize(WaveGlow(WaveGlowConfig(WN_config=WNConfig(n_channels=256))))
    mel = torch.randn(1, 80, 8)
    z = torch.randn(1, 8, 8 * 32)
    with torch.backends.mkldnn.flags(enabled=True):
        reference = model.infer(mel, 0.6, z)
        error = _relative_error(Int8WaveGlow(model, compile=False).infer(mel, 0.6, z), reference)
    assert 1e-4 < error < DOCUMENTED_RELATIVE_ERROR["int8"]


def test_a_nan_in_the_mel_reaches_the_audio_instead_of_being_quantized_away():
    model = _model()
    mel = torch.randn(1, 8, FRAMES)
    mel[0, 3, 2] = float("nan")  # int8 has no NaN: it must survive through the scales
    assert torch.isnan(Int8WaveGlow(model, compile=False).infer(mel, 0.6, torch.randn(1, 8, FRAMES * 32))).any()
