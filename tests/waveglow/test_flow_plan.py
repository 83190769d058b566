"""The first WN layer composed with the start convolution (:func:`waveglow.flow_plan.first_layer_weight`)."""
import pytest
import torch
import torch.nn.functional as F

from waveglow.flow_plan import first_layer_weight


@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_composed_first_layer_is_the_dilated_convolution_of_the_start_output_edges_included(dilation):
    torch.manual_seed(0)
    half, channels, length, kernel = 3, 10, 9, 3
    kept = torch.randn(2, half, length)
    start_weight, start_bias = torch.randn(channels, half, 1), torch.randn(channels) * 3  # a large bias
    in_weight = torch.randn(2 * channels, channels, kernel)
    padding = (kernel - 1) * dilation // 2
    # what the WN computes: the start output, zero-padded, through the dilated convolution
    expected = F.conv1d(F.conv1d(kept, start_weight, start_bias), in_weight, padding=padding, dilation=dilation)
    composed = first_layer_weight(in_weight, start_weight, start_bias)
    assert composed.shape == (2 * channels, half + 1, kernel) and composed.dtype == torch.float32
    kept_and_ones = torch.cat([kept, torch.ones(2, 1, length)], 1)
    got = F.conv1d(kept_and_ones, composed, padding=padding, dilation=dilation)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-4)
    # the edge rows really differ from a convolution that pads the bias instead of zero
    padded_bias = F.conv1d(F.pad(kept, (padding, padding)), start_weight, start_bias)
    assert not torch.allclose(F.conv1d(padded_bias, in_weight, dilation=dilation)[..., :dilation],
                              expected[..., :dilation], atol=1e-3)
