"""Reduced-precision WaveGlow inference: bf16 on CPU, fp16 on CUDA, within documented tolerances."""
import warnings

import pytest
import torch

from tests.waveglow.tiny import randomize, tiny_config
from waveglow import WaveGlow, WNConfig
from waveglow.inference import DOCUMENTED_RELATIVE_ERROR, NATIVE_X86_PRODUCTS, emulated_products, snr_db

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


def _capabilities(monkeypatch, **flags):
    """This process's CPU seen as an x86 one with only ``flags`` (torch's own capability report, replaced)."""
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"architecture": "x86_64", "avx2": True, **flags})


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_emulated_products_are_named_on_an_avx2_only_cpu(monkeypatch, precision):
    _capabilities(monkeypatch)
    message = emulated_products(precision, torch.device("cpu"))
    assert message and message.startswith(f"precision={precision!r}") and "use precision='fp32'" in message
    assert all(name in message for name in NATIVE_X86_PRODUCTS[precision])


@pytest.mark.parametrize("precision, flag", [("bf16", "avx512_bf16"), ("bf16", "amx_bf16"), ("int8", "avx512_vnni"),
                                             ("int8", "avx_vnni")])
def test_native_products_are_not_flagged(monkeypatch, precision, flag):
    _capabilities(monkeypatch, **{flag: True})
    assert emulated_products(precision, torch.device("cpu")) is None


def test_other_precisions_devices_and_architectures_are_not_flagged(monkeypatch):
    _capabilities(monkeypatch)
    assert emulated_products("fp32", torch.device("cpu")) is None
    assert emulated_products("int8", torch.device("cuda")) is None
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"architecture": "aarch64"})
    assert emulated_products("int8", torch.device("cpu")) is None


def test_preparing_bf16_on_an_avx2_only_cpu_warns_once_and_still_runs(monkeypatch):
    model, mel = _model().eval(), torch.randn(1, 8, FRAMES)
    _capabilities(monkeypatch)
    with pytest.warns(RuntimeWarning, match="emulates bf16 matrix products") as caught:
        prepared = model.prepare_inference(precision="bf16")
    assert len([w for w in caught if issubclass(w.category, RuntimeWarning)]) == 1
    assert caught[0].filename == __file__  # attributed to the caller's line
    assert prepared.infer(mel, 0.6).dtype == torch.float32
    _capabilities(monkeypatch, avx512_bf16=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model.prepare_inference(precision="bf16")
        model.prepare_inference(precision="fp32")
