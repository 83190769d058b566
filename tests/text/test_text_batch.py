"""Batching as NVIDIA's hub nvidia_tts_utils: sort by decreasing length, zero-pad."""
import pytest
import torch

from text import pad_sequences, prepare_input_sequence, text_to_sequence

TEXTS = ["Hi.", "A much longer sentence, with 12 words or so.", "Medium length one.", "Bye."]


def _reference_batch(sequences):
    """Independent construction: python sort (stable) by decreasing length, zero padding."""
    order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
    width = max(len(s) for s in sequences)
    rows = [list(sequences[i]) + [0] * (width - len(sequences[i])) for i in order]
    return torch.tensor(rows), torch.tensor([len(sequences[i]) for i in order])


def test_pad_sequences_sorts_and_pads():
    sequences = [[5, 6], [7, 8, 9, 10], [11]]
    padded, lengths = pad_sequences(sequences)
    expected_padded, expected_lengths = _reference_batch(sequences)
    assert padded.dtype == lengths.dtype == torch.long
    assert torch.equal(padded, expected_padded) and torch.equal(lengths, expected_lengths)


def test_pad_sequences_accepts_tensors_and_reports_order():
    sequences = [torch.tensor([1, 2], dtype=torch.int32), torch.tensor([3, 4, 5])]
    padded, lengths, order = pad_sequences(sequences, return_order=True)
    assert order.tolist() == [1, 0]
    for row, index in enumerate(order.tolist()):
        assert padded[row, : lengths[row]].tolist() == sequences[index].tolist()
        assert not padded[row, lengths[row]:].any()


def test_prepare_input_sequence_rows_are_the_single_text_ids():
    padded, lengths, order = prepare_input_sequence(TEXTS, cpu_run=True, return_order=True)
    assert padded.shape == (len(TEXTS), int(lengths.max()))
    assert lengths.tolist() == sorted(lengths.tolist(), reverse=True)
    assert sorted(order.tolist()) == list(range(len(TEXTS)))
    for row, index in enumerate(order.tolist()):
        single = text_to_sequence(TEXTS[index], ["english_cleaners"])
        assert lengths[row] == len(single)
        assert padded[row, : len(single)].tolist() == single


def test_prepare_input_sequence_matches_pad_sequences():
    padded, lengths = prepare_input_sequence(TEXTS, cpu_run=True)
    expected = _reference_batch([text_to_sequence(t) for t in TEXTS])
    assert torch.equal(padded, expected[0]) and torch.equal(lengths, expected[1])


@pytest.mark.parametrize("bad", [[], ()])
def test_empty_batches_are_value_errors(bad):
    with pytest.raises(ValueError, match="empty"):
        prepare_input_sequence(bad, cpu_run=True)
    with pytest.raises(ValueError, match="empty"):
        pad_sequences(bad)


def test_empty_item_is_a_value_error():
    with pytest.raises(ValueError, match="sequence 1 is empty"):
        pad_sequences([[1], []])
    with pytest.raises(ValueError, match="nothing to speak"):
        prepare_input_sequence(["fine", "   "], cpu_run=True)


def test_bare_string_and_float_ids_are_type_errors():
    with pytest.raises(TypeError, match="list"):
        prepare_input_sequence("Hello there.", cpu_run=True)
    with pytest.raises(TypeError, match="integers"):
        pad_sequences([[1.0, 2.0]])
    with pytest.raises(TypeError):
        pad_sequences(torch.ones(2, 3, dtype=torch.long))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_gpu_run_without_cuda_says_pass_cpu_run():
    with pytest.raises(RuntimeError, match="cpu_run=True"):
        prepare_input_sequence(["Hello."])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_run_puts_batch_on_cuda():
    padded, lengths = prepare_input_sequence(TEXTS)
    assert padded.is_cuda and lengths.is_cuda
    cpu_padded, cpu_lengths = prepare_input_sequence(TEXTS, cpu_run=True)
    assert torch.equal(padded.cpu(), cpu_padded) and torch.equal(lengths.cpu(), cpu_lengths)
