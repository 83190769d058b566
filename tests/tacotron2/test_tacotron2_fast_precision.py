"""Reduced-precision decoder paths (bf16, fp16, int8) stay within their documented error of fp32."""
import pytest
import torch

from tacotron2.fast_linears import cached_linears
from tacotron2.precision import DOCUMENTED_RELATIVE_ERROR, Int8Linear, ReducedLinear
from tests.tacotron2.fast_helpers import inputs

STEPS = 20


def _infer(model, precision, **kwargs):
    text, lengths = inputs(3)
    return model.infer(text, lengths, early_stopping=False, max_decoder_steps=STEPS, prenet_dropout=False,
                       precision=precision, **kwargs)


@pytest.mark.parametrize("precision", ["bf16", "fp16", "int8"])
def test_reduced_precision_within_documented_error(tiny_model, precision):
    reference = _infer(tiny_model, "fp32", method="faithful")
    result = _infer(tiny_model, precision)
    assert result.mel_postnet.dtype == torch.float32 and result.mel_postnet.shape == reference.mel_postnet.shape
    error = (result.mel_postnet - reference.mel_postnet).norm() / reference.mel_postnet.norm()
    assert error <= DOCUMENTED_RELATIVE_ERROR[precision]
    assert error > 0  # the path really ran in reduced precision
    torch.testing.assert_close(result.alignments, reference.alignments, atol=1e-2, rtol=0)


def test_fp16_is_closer_to_fp32_than_bf16(tiny_model):
    """fp16 keeps 10 mantissa bits to bf16's 7; the measured errors must reflect that."""
    reference = _infer(tiny_model, "fp32").mel_postnet
    errors = {p: (_infer(tiny_model, p).mel_postnet - reference).abs().max() for p in ("bf16", "fp16")}
    assert errors["fp16"] < errors["bf16"]


def test_reduced_linear_matches_matmul_of_rounded_operands():
    torch.manual_seed(0)
    weight, bias, x = torch.randn(6, 5), torch.randn(6), torch.randn(3, 5)
    out = torch.empty(3, 6)
    ReducedLinear(weight, bias, torch.bfloat16)(x, out)
    rounded = (x.bfloat16().double() @ weight.bfloat16().double().t()).bfloat16().float() + bias
    torch.testing.assert_close(out, rounded, atol=1e-2, rtol=0)


def test_int8_linear_error_is_within_quantization_step():
    torch.manual_seed(0)
    weight, bias, x = torch.randn(16, 32), torch.randn(16), torch.randn(4, 32)
    out = torch.empty(4, 16)
    Int8Linear(weight, bias)(x, out)
    exact = x @ weight.t() + bias
    # weight step max|w|/127 per row, activation step about max|x|/127 (or /63 with reduce_range)
    bound = 32 * (weight.abs().max() * x.abs().max()) * (1 / 127 + 1 / 63)
    assert (out - exact).abs().max() < bound
    assert (out - exact).abs().max() > 0


def test_prepared_weights_are_cached_and_rebuilt_after_load_state_dict(tiny_model):
    decoder = tiny_model.decoder
    first = cached_linears(decoder, "bf16")
    assert cached_linears(decoder, "bf16") is first
    state = {k: v * 0.5 for k, v in decoder.state_dict().items()}
    decoder.load_state_dict(state)
    rebuilt = cached_linears(decoder, "bf16")
    assert rebuilt is not first
    torch.testing.assert_close(rebuilt.decoder_hh.weight_t.float(), (decoder.decoder_rnn.weight_hh.t()).bfloat16().float())
