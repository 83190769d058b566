"""Reduced-precision decoder paths (bf16, fp16, int8) stay within their documented error of fp32."""
import pytest
import torch

from tacotron2.fast_linears import cached_linears
from tacotron2.precision import DOCUMENTED_RELATIVE_ERROR, Int8Linear, PackedLinear, ReducedLinear, make_lstm_linear
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


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="needs a PyTorch build with oneDNN")
@pytest.mark.parametrize("dtype, atol", [(torch.float32, 1e-5), (torch.bfloat16, 5e-2)])
def test_packed_linear_matches_double_precision_product(dtype, atol):
    torch.manual_seed(0)
    weight, bias, x = torch.randn(64, 48), torch.randn(64), torch.randn(3, 48)
    out = torch.full((3, 64), float("nan"))
    PackedLinear(weight, bias, dtype)(x, out)
    rounded = x.to(dtype).double() @ weight.to(dtype).double().t() + bias.double()
    torch.testing.assert_close(out.double(), rounded, atol=atol, rtol=0)


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16", "int8"])
def test_fused_lstm_product_equals_the_cells_two_products(precision):
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(24, 16)
    x, h = torch.randn(2, 24), torch.randn(2, 16)
    gates = torch.empty(2, 64)
    make_lstm_linear(cell, precision)(torch.cat((x, h), 1), gates)
    expected = x @ cell.weight_ih.t() + cell.bias_ih + h @ cell.weight_hh.t() + cell.bias_hh
    scale = expected.abs().max()
    tolerance = {"fp32": 1e-6, "bf16": 2e-2, "fp16": 2e-3, "int8": 3e-2}[precision]
    assert ((gates - expected).abs().max() / scale).item() <= tolerance


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
    cell = decoder.decoder_rnn
    x = torch.randn(3, cell.input_size + cell.hidden_size)
    gates = torch.empty(3, 4 * cell.hidden_size)
    expected = x[:, :cell.input_size] @ cell.weight_ih.t() + x[:, cell.input_size:] @ cell.weight_hh.t()
    torch.testing.assert_close(rebuilt.decoder_lstm(x, gates), expected + cell.bias_ih + cell.bias_hh,
                               atol=5e-2, rtol=2e-2)
    assert not torch.allclose(first.decoder_lstm(x, gates.clone()), expected + cell.bias_ih + cell.bias_hh,
                              atol=5e-2, rtol=2e-2)
