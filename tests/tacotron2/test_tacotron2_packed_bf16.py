"""The oneDNN-packed bf16 product of the decoder's LSTM gates agrees with the plain bf16 product and with fp32."""
import pytest
import torch

from tacotron2.precision import PackedBf16Linear, ReducedLinear, make_linear, onednn_packing_available

pytestmark = pytest.mark.skipif(not onednn_packing_available(torch.device("cpu")), reason="oneDNN's bf16 linear does not run in this build or on this CPU")


def test_packed_bf16_matches_fp32_within_bf16_rounding():
    torch.manual_seed(0)
    weight, bias, x = torch.randn(64, 48), torch.randn(64), torch.randn(3, 48)
    expected = torch.addmm(bias, x, weight.t())
    packed = PackedBf16Linear(weight, bias)(x, torch.empty(3, 64))
    plain = ReducedLinear(weight, bias, torch.bfloat16)(x, torch.empty(3, 64))
    scale = (x.abs() @ weight.abs().t()).max()
    # inputs and weights rounded to bf16 (relative 2**-8 each), products summed in fp32 or better
    assert (packed - expected).abs().max() <= 2 * 2 ** -8 * scale
    assert (packed - plain).abs().max() <= 2 * 2 ** -8 * scale


def test_bf16_uses_the_packed_product_only_where_onednn_runs():
    weight, bias = torch.randn(8, 4), torch.randn(8)
    assert isinstance(make_linear(weight, bias, "bf16"), PackedBf16Linear)
    with torch.backends.mkldnn.flags(enabled=False):
        assert isinstance(make_linear(weight, bias, "bf16"), ReducedLinear)
