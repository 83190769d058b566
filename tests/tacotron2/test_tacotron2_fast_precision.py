"""Reduced-precision decoder paths (bf16, fp16, int8) stay within their documented error of fp32."""
import pytest
import torch

from tacotron2.inference import DOCUMENTED_RELATIVE_ERROR, SUPPORTED
from tacotron2.precision import Int8Linear, ReducedLinear, StreamedLinear, make_lstm_linear
from tests.tacotron2.fast_helpers import inputs

STEPS = 20


def _infer(model, precision, **kwargs):
    text, lengths = inputs(3)
    return model.infer(text, lengths, early_stopping=False, max_decoder_steps=STEPS, prenet_dropout=False,
                       precision=precision, **kwargs)


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_within_documented_error(tiny_model, precision):
    reference = _infer(tiny_model, "fp32", backend="reference")
    result = _infer(tiny_model, precision)
    assert result.mel_postnet.dtype == torch.float32 and result.mel_postnet.shape == reference.mel_postnet.shape
    error = (result.mel_postnet - reference.mel_postnet).norm() / reference.mel_postnet.norm()
    assert error <= DOCUMENTED_RELATIVE_ERROR[precision]
    assert error > 0  # the path really ran in reduced precision
    torch.testing.assert_close(result.alignments, reference.alignments, atol=1e-2, rtol=0)


def test_fp16_products_are_closer_to_exact_than_bf16():
    """fp16 keeps 10 mantissa bits to bf16's 7 (the op itself; the fp16 decoder runs on CUDA only)."""
    torch.manual_seed(0)
    weight, bias, x = torch.randn(64, 48), torch.randn(64), torch.randn(3, 48)
    exact = x @ weight.t() + bias
    errors = {}
    for dtype in (torch.bfloat16, torch.float16):
        out = torch.empty(3, 64)
        ReducedLinear(weight, bias, dtype)(x, out)
        errors[dtype] = (out - exact).abs().max()
    assert errors[torch.float16] < errors[torch.bfloat16]


def test_reduced_linear_matches_matmul_of_rounded_operands():
    torch.manual_seed(0)
    weight, bias, x = torch.randn(6, 5), torch.randn(6), torch.randn(3, 5)
    out = torch.empty(3, 6)
    ReducedLinear(weight, bias, torch.bfloat16)(x, out)
    rounded = (x.bfloat16().double() @ weight.bfloat16().double().t()).bfloat16().float() + bias
    torch.testing.assert_close(out, rounded, atol=1e-2, rtol=0)


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


def test_fp32_fused_lstm_weight_is_stored_in_out_contiguous():
    cell = torch.nn.LSTMCell(24, 16)
    product = make_lstm_linear(cell, "fp32")
    assert isinstance(product, StreamedLinear)
    assert product.weight_t.shape == (24 + 16, 64) and product.weight_t.is_contiguous()
    assert torch.equal(product.weight_t, torch.cat((cell.weight_ih, cell.weight_hh), 1).t())
    assert product.nbytes == 4 * (40 * 64 + 64)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n_in, chunks", [(48, 16), (20, 4), (7, 1)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_streamed_linear_matches_float64_in_blocks_and_in_one_product(threads, n_in, chunks, with_bias):
    torch.manual_seed(0)
    weight_t, x = torch.randn(n_in, 6), torch.randn(3, n_in)
    bias = torch.randn(6) if with_bias else None
    product = StreamedLinear(weight_t, bias)
    assert product.chunks == chunks
    out = torch.empty(3, 6)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        assert product(x, out) is out
    finally:
        torch.set_num_threads(previous)
    expected = x.double() @ weight_t.double() + (0 if bias is None else bias.double())
    torch.testing.assert_close(out, expected.float(), atol=1e-5, rtol=0)
    if threads == 1 or chunks == 1:  # one addmm, exactly as nn.Linear's call on the transposed weight
        plain = torch.mm(x, weight_t) if bias is None else torch.addmm(bias, x, weight_t)
        assert torch.equal(out, plain)


def test_streamed_linear_uses_one_product_outside_cpu_fp32():
    assert StreamedLinear(torch.randn(32, 4), None).chunks == 16
    assert StreamedLinear(torch.randn(32, 4, dtype=torch.bfloat16), None).chunks == 1
    assert StreamedLinear(torch.randn(32, 4, dtype=torch.float64), None).chunks == 1


def test_streamed_linear_refuses_a_strided_weight():
    with pytest.raises(ValueError, match="contiguous"):
        StreamedLinear(torch.randn(6, 5).t(), None)


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


CPU_COMBINATIONS = [key for key, devices in SUPPORTED.items() if "cpu" in devices]


@pytest.mark.parametrize("backend, precision", CPU_COMBINATIONS)
@pytest.mark.parametrize("dropout", [False, True])
def test_every_cpu_combination_agrees_with_the_reference_within_its_tolerance(tiny_model, backend, precision,
                                                                               dropout):
    """Seeded, unsorted batch of 3 (lengths 9, 4, 6): each combination against the reference loop."""
    text, lengths = inputs(3)
    torch.manual_seed(11)
    reference = tiny_model.infer(text, lengths, early_stopping=False, max_decoder_steps=STEPS, prenet_dropout=dropout,
                                 backend="reference")
    torch.manual_seed(11)
    result = tiny_model.infer(text, lengths, early_stopping=False, max_decoder_steps=STEPS, prenet_dropout=dropout,
                              backend=backend, precision=precision)
    error = (result.mel_postnet - reference.mel_postnet).norm() / reference.mel_postnet.norm()
    assert error <= DOCUMENTED_RELATIVE_ERROR[precision]
    if precision == "fp32_exact" or backend == "reference":
        assert error == 0
    # batch == single: the first item alone gives the same numbers (the batch does not leak between items)
    torch.manual_seed(5)
    single = tiny_model.infer(text[:1], lengths[:1], early_stopping=False, max_decoder_steps=STEPS,
                              prenet_dropout=False, backend=backend, precision=precision)
    torch.manual_seed(5)
    batched = tiny_model.infer(text, lengths, early_stopping=False, max_decoder_steps=STEPS, prenet_dropout=False,
                               backend=backend, precision=precision)
    tolerance = 1e-5 if precision in ("fp32", "fp32_exact") else 5 * DOCUMENTED_RELATIVE_ERROR[precision]
    torch.testing.assert_close(batched.mel_postnet[:1], single.mel_postnet, atol=tolerance, rtol=0)


def test_int8_linear_does_not_saturate_on_any_cpu():
    """Every u8 x s8 pair at its maximum: 255 * 127 * 2 overflows the 16-bit sums of x86 kernels without VNNI."""
    weight, x = torch.ones(8, 64), torch.ones(2, 64)
    out = torch.empty(2, 8)
    Int8Linear(weight, None)(x, out)
    torch.testing.assert_close(out, torch.full((2, 8), 64.0), rtol=0.02, atol=0)
