"""Reduced-precision WaveGlow inference: bf16 on CPU, fp16 on CUDA, within documented tolerances."""
import pytest
import torch

from tests.waveglow.tiny import randomize, tiny_config
from waveglow import WaveGlow, WNConfig
from waveglow.inference import DOCUMENTED_RELATIVE_ERROR, snr_db

FRAMES = 4


def _model(device="cpu"):
    torch.manual_seed(6)
    config = tiny_config(WN_config=WNConfig(n_layers=3, kernel_size=3, n_channels=32))
    return randomize(WaveGlow(config)).to(device)


def _relative_error(estimate, reference):
    return float((estimate.float() - reference).norm() / reference.norm())


def _seeded(model, mel, **kwargs):
    torch.manual_seed(9)
    return model.infer(mel, 0.6, **kwargs)


def test_bf16_close_to_fp32_and_returns_fp32():
    model = _model()
    mel = torch.randn(2, 8, FRAMES)
    reference = _seeded(model, mel, backend="reference")
    low = _seeded(model, mel, precision="bf16")
    assert low.dtype == torch.float32
    assert low.shape == reference.shape
    assert _relative_error(low, reference) < DOCUMENTED_RELATIVE_ERROR["bf16"]
    assert snr_db(low, reference) > -20 * torch.log10(torch.tensor(DOCUMENTED_RELATIVE_ERROR["bf16"])).item()
    # the error is real (bf16 really ran), not an fp32 pass in disguise
    assert not torch.equal(low, reference)


def test_bf16_uses_the_same_noise_as_fp32():
    model = _model()
    mel = torch.randn(1, 8, FRAMES)
    torch.manual_seed(9)
    z = torch.randn(1, 8, FRAMES * 32)  # the remaining 6 channels are drawn first, then 2 early
    z = torch.cat([z[:, 6:], z[:, :6]], 1)
    drawn = _seeded(model, mel, precision="bf16")
    torch.testing.assert_close(drawn, model.infer(mel, 0.6, z, precision="bf16"), atol=0, rtol=0)


def test_snr_db_closed_form():
    reference = torch.ones(100)
    assert snr_db(reference * 1.1, reference) == pytest.approx(20.0)
    assert snr_db(reference, reference) == float("inf")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
def test_cuda_paths(precision):
    model = _model("cuda")
    mel = torch.randn(2, 8, FRAMES, device="cuda")
    reference = _seeded(model, mel, backend="reference")
    fast = _seeded(model, mel, precision=precision)
    assert _relative_error(fast, reference) < max(DOCUMENTED_RELATIVE_ERROR[precision], 1e-5)
