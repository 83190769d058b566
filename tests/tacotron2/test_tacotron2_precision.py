"""Attention masking, reduced precision and devices."""
import pytest
import torch

from tacotron2 import Tacotron2
from tacotron2.attention import Attention

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_attention_masks_padding_exactly_in_every_dtype(dtype):
    torch.manual_seed(0)
    attention = Attention(12, 10, 6, 3, 5).to(dtype)
    memory = torch.randn(2, 7, 10, dtype=dtype)
    processed = attention.memory_layer(memory)
    weights_cat = torch.rand(2, 2, 7, dtype=dtype)
    mask = torch.arange(7) >= torch.tensor([[7], [4]])
    context, weights = attention(torch.randn(2, 12, dtype=dtype), memory, processed, weights_cat, mask)
    assert weights.dtype == dtype and context.shape == (2, 10)
    assert torch.all(weights[1, 4:] == 0)
    assert torch.isfinite(weights).all() and torch.isfinite(context).all()
    torch.testing.assert_close(weights.float().sum(-1), torch.ones(2), atol=1e-2, rtol=0)


def _inputs(device="cpu"):
    text = torch.tensor([[5, 9, 12, 40, 33, 2, 7], [8, 21, 30, 11, 0, 0, 0]], device=device)
    return text, torch.tensor([7, 4], device=device)


def _mel(device="cpu"):
    return torch.randn(2, 8, 6, device=device), torch.tensor([6, 4], device=device)


def _check_finite(*tensors):
    for t in tensors:
        assert torch.isfinite(t.float()).all()


def test_cpu_bf16_autocast_forward_and_infer(tiny_model):
    text, lengths = _inputs()
    mel, mel_lengths = _mel()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = tiny_model(text, lengths, mel, mel_lengths)
        result = tiny_model.infer(text, lengths, max_decoder_steps=6, early_stopping=False)
    _check_finite(*out, *result)
    assert result.mel_postnet.shape == (2, 8, 6)


def test_cpu_bf16_model_infer(tiny_model):
    model = tiny_model.to(torch.bfloat16)
    text, lengths = _inputs()
    result = model.infer(text, lengths, max_decoder_steps=6, early_stopping=False)
    assert result.mel_postnet.dtype == torch.bfloat16
    _check_finite(*result)


def test_cpu_bf16_model_training_forward(tiny_config):
    model = Tacotron2(tiny_config).to(torch.bfloat16).train()
    text, lengths = _inputs()
    mel, mel_lengths = _mel()
    out = model(text, lengths, mel, mel_lengths)
    out.mel_postnet.float().sum().backward()
    _check_finite(*out)


@needs_cuda
def test_cuda_matches_cpu_without_dropout(tiny_model):
    text, lengths = _inputs()
    cpu = tiny_model.infer(text, lengths, max_decoder_steps=6, early_stopping=False, prenet_dropout=False)
    gpu = tiny_model.to("cuda").infer(text.cuda(), lengths.cuda(), max_decoder_steps=6, early_stopping=False,
                                      prenet_dropout=False)
    assert gpu.mel_lengths.device.type == "cuda"
    torch.testing.assert_close(gpu.mel_postnet.cpu(), cpu.mel_postnet, atol=1e-4, rtol=1e-4)


@needs_cuda
def test_cuda_half_model_infer(tiny_model):
    model = tiny_model.to("cuda").half()
    result = model.infer(*_inputs("cuda"), max_decoder_steps=6, early_stopping=False)
    assert result.mel_postnet.dtype == torch.float16
    _check_finite(*result)


@needs_cuda
def test_cuda_fp16_autocast_forward_backward_and_infer(tiny_config):
    model = Tacotron2(tiny_config).to("cuda").train()
    text, lengths = _inputs("cuda")
    mel, mel_lengths = _mel("cuda")
    with torch.autocast("cuda", dtype=torch.float16):
        out = model(text, lengths, mel, mel_lengths)
        loss = out.mel_postnet.float().pow(2).mean()
    loss.backward()
    model.eval()
    with torch.autocast("cuda", dtype=torch.float16):
        result = model.infer(text, lengths, max_decoder_steps=6, early_stopping=False)
    _check_finite(*out, *result)
