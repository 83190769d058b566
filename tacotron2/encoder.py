"""Tacotron 2 encoder: convolution stack and bidirectional LSTM."""
from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F

from .layers import ConvNorm


class Encoder(nn.Module):
    """``n_convolutions`` x (conv, batch norm, ReLU, dropout 0.5 in training), then a BiLSTM.

    The LSTM runs over packed sequences, so padded steps never reach it; the
    convolutions do see the padding symbols of shorter items (as NVIDIA's).
    """

    def __init__(self, n_convolutions: int, embedding_dim: int, kernel_size: int) -> None:
        super().__init__()
        self.convolutions = nn.ModuleList(
            nn.Sequential(
                ConvNorm(embedding_dim, embedding_dim, kernel_size=kernel_size,
                         padding=(kernel_size - 1) // 2, w_init_gain="relu"),
                nn.BatchNorm1d(embedding_dim))
            for _ in range(n_convolutions))
        self.lstm = nn.LSTM(embedding_dim, embedding_dim // 2, 1, batch_first=True, bidirectional=True)

    def forward(self, x: Tensor, input_lengths: Tensor) -> Tensor:
        """``x`` (B, embedding_dim, T_in), ``input_lengths`` (B,) in any order.

        Returns ``(B, max(input_lengths), embedding_dim)``, zero past each length.
        """
        for conv in self.convolutions:
            x = F.dropout(F.relu(conv(x)), 0.5, self.training)
        x = x.transpose(1, 2)
        packed = nn.utils.rnn.pack_padded_sequence(
            x, input_lengths.detach().cpu(), batch_first=True, enforce_sorted=False)
        outputs, _ = self.lstm(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True)
        return outputs
