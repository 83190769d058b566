"""CUDA-only fast WaveGlow paths: the captured CUDA graph (skipped without a GPU)."""
import pytest
import torch

from tests.waveglow.tiny import randomize, tiny_config
from waveglow import WaveGlow
from waveglow.cuda_graph import GraphedWaveGlow

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _model(device="cpu"):
    torch.manual_seed(6)
    return randomize(WaveGlow(tiny_config())).to(device)


def test_graph_refuses_a_cpu_model():
    with pytest.raises(ValueError, match="CUDA"):
        GraphedWaveGlow(_model(), batch=1, frames=4)


@needs_cuda
@pytest.mark.parametrize("compute_dtype, atol", [(None, 1e-4), (torch.float16, 1e-3)])
def test_graph_equals_seeded_infer(compute_dtype, atol):
    model = _model("cuda")
    mel = torch.randn(2, 8, 4, device="cuda")
    graphed = GraphedWaveGlow(model, 2, 4, compute_dtype=compute_dtype)
    for seed in (0, 1):
        torch.manual_seed(seed)
        expected = model.infer(mel, 0.6, compute_dtype=compute_dtype)
        torch.manual_seed(seed)
        torch.testing.assert_close(graphed(mel, 0.6), expected, atol=atol, rtol=0)


@needs_cuda
def test_graph_recaptures_after_new_weights_and_checks_shape():
    model = _model("cuda")
    mel = torch.randn(1, 8, 4, device="cuda")
    graphed = GraphedWaveGlow(model, 1, 4)
    with torch.no_grad():
        model.WN[0].end.bias.add_(0.1)
    z = torch.randn(1, 8, 128, device="cuda")
    torch.testing.assert_close(graphed(mel, 1.0, z), model.infer(mel, 1.0, z, method="faithful"), atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="captured for mels of shape"):
        graphed(torch.randn(1, 8, 5, device="cuda"))


@needs_cuda
@pytest.mark.parametrize("compute_dtype, atol", [(None, 1e-4), (torch.float16, 2e-3)])
def test_folded_upsampler_on_cuda_equals_faithful(compute_dtype, atol):
    model = _model("cuda")
    mel = torch.randn(2, 8, 4, device="cuda")
    z = torch.randn(2, 8, 128, device="cuda")
    expected = model.infer(mel, 0.6, z, method="faithful")
    graphed = GraphedWaveGlow(model, 2, 4, compute_dtype=compute_dtype, fold_upsampler=True)
    torch.testing.assert_close(graphed(mel, 0.6, z), expected, atol=atol, rtol=0)
    torch.testing.assert_close(model.infer(mel, 0.6, z, compute_dtype=compute_dtype, fold_upsampler=True), expected,
                               atol=atol, rtol=0)
