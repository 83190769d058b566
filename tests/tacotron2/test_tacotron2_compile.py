"""The decoder step compiles as one graph with torch.compile and agrees with eager.

``torch.jit.script`` is deprecated in the installed PyTorch, so torch.compile is
the supported route. The ``aot_eager`` backend traces the step through Dynamo and
AOTAutograd (the part that breaks on unsupported Python) without generating C++,
which keeps this test to seconds on CPU; inductor works too but takes ~40 s here.
"""
import torch

from tacotron2 import DecoderState
from tacotron2.masks import padding_mask


def test_compiled_decoder_step_matches_eager(tiny_model):
    decoder = tiny_model.decoder
    text = torch.tensor([[5, 9, 12, 40, 33, 2], [8, 21, 30, 0, 0, 0]])
    lengths = torch.tensor([6, 3])
    with torch.no_grad():
        memory = tiny_model.encode(text, lengths)
        processed = decoder.attention_layer.memory_layer(memory)
        mask = padding_mask(lengths, memory.size(1))
        state = decoder.initial_state(memory)
        frame = decoder.prenet(torch.randn(2, 8), dropout=False)
        compiled = torch.compile(decoder.step, backend="aot_eager", fullgraph=True)
        eager_state, compiled_state = state, state
        for _ in range(3):
            eager = decoder.step(frame, eager_state, memory, processed, mask)
            fast = compiled(frame, compiled_state, memory, processed, mask)
            eager_state, compiled_state = eager[2], fast[2]
    assert isinstance(compiled_state, DecoderState)
    torch.testing.assert_close(fast[0], eager[0], atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(fast[1], eager[1], atol=1e-6, rtol=1e-6)
    for a, b in zip(compiled_state, eager_state):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)
