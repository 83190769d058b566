"""The shared coupling helpers against closed forms."""
import torch

from waveglow.coupling import gate_from_halves, gated_activation


def test_gate_from_halves_is_tanh_times_sigmoid_including_saturation():
    a = torch.cat([torch.linspace(-60, 60, 2001), torch.tensor([0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0, 200.0])])
    b = a.flip(0)
    got = gate_from_halves(a, b)
    expected = (torch.tanh(a.double()) * torch.sigmoid(b.double())).float()
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, expected, rtol=2e-6, atol=1e-7)
    x = torch.randn(7, 2 * 5)
    torch.testing.assert_close(gate_from_halves(x[:, :5], x[:, 5:]), gated_activation(x, 5), rtol=2e-6, atol=1e-7)
