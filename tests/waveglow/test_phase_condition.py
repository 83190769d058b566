"""The upsampler folded into the conditioning (``fold_upsampler=True``) against the faithful computation."""
import pytest
import torch
import torch.nn.functional as F

from tests.waveglow.tiny import randomize, tiny_config
from waveglow import WaveGlow
from waveglow.phase_condition import (add_phase_condition, fold_upsampler, fold_upsampler_time_major, phase_geometry,
                                      stack_frames)
from waveglow.inference import DOCUMENTED_RELATIVE_ERROR

ATOL = 1e-4
FRAMES = 5


def _model(seed=5, **changes):
    torch.manual_seed(seed)
    model = randomize(WaveGlow(tiny_config(**changes)))
    with torch.no_grad():
        model.upsample.bias.normal_()  # zero-mean random, so the folded bias is really tested
    return model


def test_stack_frames_puts_frame_k_minus_m_in_block_m():
    mel = torch.arange(2 * 3 * 4, dtype=torch.float32).view(2, 3, 4)
    stacked = stack_frames(mel, 3)
    assert stacked.shape == (2, 9, 4)
    for m in range(3):
        for k in range(4):
            expected = mel[:, :, k - m] if k >= m else torch.zeros(2, 3)
            assert torch.equal(stacked[:, 3 * m:3 * m + 3, k], expected)


@pytest.mark.parametrize("in_place_product", [True, False])
def test_folded_condition_equals_upsample_squeeze_conv(in_place_product):
    model = _model()
    out_channels = 12
    weight = torch.randn(out_channels, 8 * model.n_group, 1)
    bias = torch.randn(out_channels)
    mel = torch.randn(2, 8, FRAMES)
    expected = F.conv1d(model.squeezed_condition(mel), weight, bias)
    geometry = phase_geometry(model.upsample, model.n_group)
    assert geometry == (4, 32)
    phase_weight, phase_bias = fold_upsampler(model.upsample, model.n_group, weight, bias, in_place_product)
    start = phase_bias.view(1, -1, 1).expand_as(expected).contiguous()
    folded = add_phase_condition(start, phase_weight, stack_frames(mel, geometry.frames), in_place_product)
    torch.testing.assert_close(folded, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("alternate_halves", [False, True])
@pytest.mark.parametrize("batch, sigma", [(1, 1.0), (3, 0.6)])
def test_folded_fast_path_equals_faithful(alternate_halves, batch, sigma):
    model = _model(alternate_halves=alternate_halves)
    mel = torch.randn(batch, 8, FRAMES)
    torch.manual_seed(0)
    folded = model.infer(mel, sigma, fold_upsampler=True)
    torch.manual_seed(0)
    faithful = model.infer(mel, sigma, backend="reference")
    torch.testing.assert_close(folded, faithful, atol=ATOL, rtol=0)


def test_folded_bf16_within_its_documented_error():
    model = _model()
    mel = torch.randn(2, 8, FRAMES)
    torch.manual_seed(0)
    reference = model.infer(mel, 0.6, backend="reference")
    torch.manual_seed(0)
    bf16 = model.infer(mel, 0.6, precision="bf16", fold_upsampler=True)
    assert bf16.dtype == torch.float32
    assert ((bf16 - reference).norm() / reference.norm()).item() < DOCUMENTED_RELATIVE_ERROR["bf16"]


def test_folded_inverts_forward_with_given_latent():
    model = _model()
    mel = torch.randn(2, 8, FRAMES)
    audio = torch.rand(2, FRAMES * 256) * 2 - 1
    z = model(mel, audio).z
    torch.testing.assert_close(model.infer(mel, 1.0, z, fold_upsampler=True), audio, atol=ATOL, rtol=0)


def test_chunked_folded_equals_unchunked():
    model = _model()
    mel = torch.randn(1, 8, 9)
    torch.manual_seed(2)
    whole = model.infer(mel, 0.8, backend="reference")
    torch.manual_seed(2)
    chunked = model.infer(mel, 0.8, chunk_frames=4, fold_upsampler=True)
    torch.testing.assert_close(chunked, whole, atol=ATOL, rtol=0)


def test_the_fold_is_an_explicit_choice_not_call_history():
    model = _model()
    folded = model.prepare_inference(fold_upsampler=True)
    assert folded.form.geometry is not None and folded.describe() == "fast/fp32 folded"
    assert model.prepare_inference().form.geometry is None  # None means unfolded, whatever was built before
    assert folded.nbytes > model.prepare_inference().nbytes


def test_fold_refused_where_the_upsampler_cannot_be_folded():
    model = _model(n_group=6, n_early_size=2, n_early_every=4)  # 256 samples per frame is not 6-step aligned
    assert phase_geometry(model.upsample, model.n_group) is None
    with pytest.raises(ValueError, match="fold_upsampler"):
        model.infer(torch.randn(1, 8, FRAMES), fold_upsampler=True)
    torch.manual_seed(0)
    plain = model.infer(torch.zeros(1, 8, FRAMES), 0.5)  # the default still works there
    assert torch.isfinite(plain).all()


def test_faithful_path_refuses_the_fold():
    with pytest.raises(ValueError, match="fold_upsampler=True needs backend='fast', not 'reference'"):
        _model().infer(torch.randn(1, 8, FRAMES), backend="reference", fold_upsampler=True)


def test_time_major_fold_equals_upsample_squeeze_conv():
    model = _model()
    out_channels = 12
    weight = torch.randn(out_channels, 8 * model.n_group, 1, dtype=torch.float64)
    bias = torch.randn(out_channels, dtype=torch.float64)
    model = model.double()
    mel = torch.randn(1, 8, FRAMES, dtype=torch.float64)
    expected = F.conv1d(model.squeezed_condition(mel), weight, bias)[0].t()  # (T, O) time-major
    phase_weight, phase_bias = fold_upsampler_time_major(model.upsample, model.n_group, weight, bias,
                                                         torch.float64)
    frames = stack_frames(mel, phase_geometry(model.upsample, model.n_group).frames)[0].t()  # (T_mel, M * n_mel)
    folded = (frames @ phase_weight).view(-1, out_channels) + phase_bias
    torch.testing.assert_close(folded, expected, atol=1e-10, rtol=1e-10)
