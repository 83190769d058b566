"""CUDA-only fast WaveGlow paths: the captured CUDA graph (skipped without a GPU)."""
import pytest
import torch

from tests.waveglow.tiny import randomize, tiny_config
from waveglow import WaveGlow

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _model(device="cpu"):
    torch.manual_seed(6)
    return randomize(WaveGlow(tiny_config())).to(device)


def test_graph_refuses_a_cpu_model():
    with pytest.raises(ValueError, match="backend='cuda_graph' with precision='fp32' does not run on cpu"):
        _model().prepare_inference(backend="cuda_graph")


@needs_cuda
@pytest.mark.parametrize("precision, fold, atol", [("fp32", None, 1e-4), ("fp16", None, 1e-3), ("fp32", True, 1e-4),
                                                   ("fp16", True, 2e-3)])
def test_graph_equals_seeded_fast_and_the_reference(precision, fold, atol):
    model = _model("cuda")
    mel = torch.randn(2, 8, 4, device="cuda")
    graphed = model.prepare_inference(backend="cuda_graph", precision=precision, fold_upsampler=fold)
    for seed in (0, 1):
        torch.manual_seed(seed)
        expected = model.infer(mel, 0.6, precision=precision, fold_upsampler=fold)
        torch.manual_seed(seed)
        torch.testing.assert_close(graphed.infer(mel, 0.6), expected, atol=atol, rtol=0)
    z = torch.randn(2, 8, 128, device="cuda")
    torch.testing.assert_close(graphed.infer(mel, 0.6, z), model.infer(mel, 0.6, z, backend="reference"),
                               atol=atol, rtol=0)


@needs_cuda
def test_graphs_are_kept_per_shape_and_bounded():
    model = _model("cuda")
    graphed = model.prepare_inference(backend="cuda_graph")
    for frames in range(2, 8):
        mel = torch.randn(1, 8, frames, device="cuda")
        z = torch.randn(1, 8, frames * 32, device="cuda")
        torch.testing.assert_close(graphed.infer(mel, 1.0, z), model.infer(mel, 1.0, z), atol=1e-4, rtol=0)
    assert len(graphed.graphs.captures) == graphed.graphs.max_graphs and graphed.nbytes > 0
