"""CUDA fast and CUDA-graph decoding (skipped without a GPU)."""
import pytest
import torch

from tacotron2.inference import DOCUMENTED_RELATIVE_ERROR, SUPPORTED
from tests.tacotron2.fast_helpers import calibrate_gate, inputs

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
STEPS = 24


def _infer(model, seed=0, **kwargs):
    text, lengths = inputs(3)
    torch.manual_seed(seed)
    return model.generate(text.cuda(), lengths.cuda(), max_decoder_steps=STEPS, **kwargs)


@pytest.fixture
def cuda_model(tiny_model):
    return tiny_model.cuda()


@pytest.mark.parametrize("backend, precision", [k for k, devices in SUPPORTED.items() if "cuda" in devices])
def test_every_cuda_combination_within_its_tolerance(cuda_model, backend, precision):
    reference = _infer(cuda_model, early_stopping=False, prenet_dropout=False, backend="reference")
    result = _infer(cuda_model, early_stopping=False, prenet_dropout=False, backend=backend, precision=precision)
    error = (result.mel_postnet - reference.mel_postnet).norm() / reference.mel_postnet.norm()
    assert error <= max(DOCUMENTED_RELATIVE_ERROR[precision], 1e-5)


def test_cuda_fast_equals_faithful_with_dropout(cuda_model):
    fast = _infer(cuda_model, early_stopping=False, stop_check_interval=5)
    faithful = _infer(cuda_model, early_stopping=False, backend="reference")
    torch.testing.assert_close(fast.mel_postnet, faithful.mel_postnet, atol=1e-5, rtol=0)


@pytest.mark.parametrize("block", [4, 8])
def test_cuda_graph_fp32_matches_fast_without_dropout(cuda_model, block):
    text, lengths = inputs(3)
    calibrate_gate(cuda_model.cpu(), text, lengths, 0, STEPS, quiet_steps=6)
    cuda_model.cuda()
    graph = _infer(cuda_model, backend="cuda_graph", precision="fp32", prenet_dropout=False, stop_check_interval=block)
    again = _infer(cuda_model, backend="cuda_graph", precision="fp32", prenet_dropout=False, stop_check_interval=block)
    fast = _infer(cuda_model, prenet_dropout=False)
    assert graph.mel_postnet.shape == fast.mel_postnet.shape
    torch.testing.assert_close(graph.mel_postnet, fast.mel_postnet, atol=1e-4, rtol=0)
    assert torch.equal(graph.mel_lengths, fast.mel_lengths) and torch.equal(graph.reached_limit, fast.reached_limit)
    torch.testing.assert_close(again.mel_postnet, graph.mel_postnet, atol=0, rtol=0)  # replay is deterministic


def test_cuda_graph_dropout_is_seeded_and_fresh_per_replay(cuda_model):
    a = _infer(cuda_model, seed=3, backend="cuda_graph", early_stopping=False)
    b = _infer(cuda_model, seed=3, backend="cuda_graph", early_stopping=False)
    c = _infer(cuda_model, seed=4, backend="cuda_graph", early_stopping=False)
    torch.testing.assert_close(a.mel_postnet, b.mel_postnet, atol=0, rtol=0)
    assert not torch.allclose(a.mel_postnet, c.mel_postnet)
    no_dropout = _infer(cuda_model, seed=3, backend="cuda_graph", early_stopping=False, prenet_dropout=False)
    assert not torch.allclose(a.mel_postnet, no_dropout.mel_postnet)  # the replayed masks are not all ones


def test_cuda_graph_fp16_within_documented_error(cuda_model):
    reference = _infer(cuda_model, early_stopping=False, prenet_dropout=False)
    half = _infer(cuda_model, backend="cuda_graph", precision="fp16", early_stopping=False, prenet_dropout=False)
    error = (half.mel_postnet - reference.mel_postnet).norm() / reference.mel_postnet.norm()
    assert error <= DOCUMENTED_RELATIVE_ERROR["fp16"]


def test_int8_is_refused_on_cuda(cuda_model):
    text, lengths = inputs(2)
    with pytest.raises(ValueError, match="precision='int8' does not run on cuda"):
        cuda_model.infer(text.cuda(), lengths.cuda(), precision="int8")
