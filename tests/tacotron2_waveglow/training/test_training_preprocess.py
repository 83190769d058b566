"""Mel caching: resumable, atomic, and the cached mels equal the on-the-fly ones."""
import os

import torch

from tacotron2_waveglow.training.data.filelist import read_filelist
from tacotron2_waveglow.training.data.mel import MelExtractor, MelSettings
from tacotron2_waveglow.training.data.text_mel import TextMelDataset
from tacotron2_waveglow.training.preprocess import cache_mels, main
from training_data import write_dataset


def test_cache_is_resumable_and_matches_on_the_fly(tmp_path):
    listing = write_dataset(tmp_path, n=2)
    rows, _ = read_filelist(listing, tmp_path)
    mels = MelExtractor(MelSettings(n_mel_channels=8))
    paths, computed = cache_mels(rows, mels, tmp_path, tmp_path / "mels", progress=False)
    assert computed == 2 and paths[0] == tmp_path / "mels" / "wavs" / "utt0.pt"
    _, again = cache_mels(rows, mels, tmp_path, tmp_path / "mels", progress=False)
    assert again == 0
    later = paths[0].stat().st_mtime + 10
    os.utime(rows[0].path, (later, later))
    _, stale = cache_mels(rows, mels, tmp_path, tmp_path / "mels", progress=False)
    assert stale == 1
    torch.testing.assert_close(mels.from_cache(paths[1]), mels.from_wav(rows[1].path), rtol=0, atol=0)


def test_preprocess_cli_writes_a_mel_filelist_for_load_mel_from_disk(tmp_path):
    listing = write_dataset(tmp_path, n=2)
    assert main(["-d", str(tmp_path), "--filelists", str(listing), "--n-mel-channels", "8", "--no-progress"]) == 0
    mel_list = tmp_path / "mels" / "train_mel.txt"
    rows, bad = read_filelist(mel_list, tmp_path)
    assert not bad and rows[0].path.suffix == ".pt"
    from_disk = TextMelDataset(rows, MelExtractor(MelSettings(n_mel_channels=8)), load_mel_from_disk=True)
    wav_rows, _ = read_filelist(listing, tmp_path)
    on_the_fly = TextMelDataset(wav_rows, MelExtractor(MelSettings(n_mel_channels=8)))
    assert torch.equal(from_disk[0][1], on_the_fly[0][1]) and torch.equal(from_disk[0][0], on_the_fly[0][0])
