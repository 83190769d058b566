"""The int8 WaveGlow form kept on disk (``cache_dir``): reused only for the same weights, never trusted blindly."""
import pickle
import warnings

import pytest
import torch

from tests.waveglow.tiny import randomize, tiny_config
from waveglow import WaveGlow
from waveglow.int8_cache import expected_layout, form_path
from waveglow.int8_infer import Int8WaveGlow

FRAMES = 5


def _model(seed=3):
    torch.manual_seed(seed)
    model = randomize(WaveGlow(tiny_config()))
    with torch.no_grad():
        model.upsample.bias.normal_()
    return model.eval()


def _audio(form):
    torch.manual_seed(0)
    mel = torch.randn(1, form.model.config.n_mel_channels, FRAMES)
    z = torch.randn(1, form.model.n_group, form.model.latent_steps(FRAMES))
    with torch.no_grad():
        return form.infer(mel, 0.7, z)


def _quiet(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean cache hit or miss warns about nothing
        return Int8WaveGlow(compile=False, **kwargs)


def test_expected_layout_is_what_the_form_builds():
    """The layout a cache file is checked against (derived from the config) equals a freshly built form."""
    model = _model()
    form = Int8WaveGlow(model, compile=False)
    for flow, layout in zip(form.flows, expected_layout(model), strict=True):
        for name, want in layout.items():
            got = getattr(flow, name)
            if isinstance(want, list):
                assert [(tuple(t.shape), t.dtype) for t in got] == want, name
            elif isinstance(want, tuple) and len(want) == 2 and isinstance(want[1], torch.dtype):
                assert (tuple(got.shape), got.dtype) == want, name
            else:
                assert got == want, name


def test_a_cached_form_is_reused_and_gives_the_same_audio(tmp_path):
    model = _model()
    built = _quiet(model=model, cache_dir=tmp_path)
    assert not built.from_cache and built.cache_path.is_file()
    assert built.cache_path.parent == tmp_path and built.cache_path == form_path(model, tmp_path)
    reused = _quiet(model=model, cache_dir=tmp_path)
    assert reused.from_cache
    assert torch.equal(_audio(reused), _audio(Int8WaveGlow(model, compile=False)))
    assert [p.name for p in tmp_path.iterdir()] == [built.cache_path.name]  # no temporary left behind


def test_other_weights_get_another_file(tmp_path):
    model = _model()
    first = form_path(model, tmp_path)
    with torch.no_grad():
        model.WN[0].end.bias.add_(1e-3)  # one small in-place change
    assert form_path(model, tmp_path) != first
    assert not _quiet(model=model, cache_dir=tmp_path).from_cache


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong shape", "too large", "code"])
def test_a_damaged_or_hostile_file_is_refused_with_one_warning_and_rebuilt(tmp_path, damage):
    model = _model()
    path = _quiet(model=model, cache_dir=tmp_path).cache_path
    expected = _audio(Int8WaveGlow(model, compile=False))
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 5000)
    elif damage == "wrong shape":
        state = torch.load(path, weights_only=True)
        state["flows"][0]["in_weights"][0] = state["flows"][0]["in_weights"][0][:, :1].contiguous()
        torch.save(state, path)
    elif damage == "too large":
        path.write_bytes(path.read_bytes() + b"\x00" * (8 * 2 ** 20))
    else:  # a pickle that would run code if it were unpickled without restrictions
        class Payload:
            def __reduce__(self):
                return (exec, ("open(%r, 'w').write('ran')" % str(tmp_path / "pwned"),))
        path.write_bytes(pickle.dumps(Payload()))
    with pytest.warns(RuntimeWarning, match="ignoring the cached int8 WaveGlow form") as record:
        form = Int8WaveGlow(model, compile=False, cache_dir=tmp_path)
    assert len([w for w in record if issubclass(w.category, RuntimeWarning)]) == 1
    assert str(path) in str(record[0].message)
    assert not form.from_cache and torch.equal(_audio(form), expected)
    assert not (tmp_path / "pwned").exists()
    assert _quiet(model=model, cache_dir=tmp_path).from_cache  # the rebuilt form replaced the bad file


def test_an_unwritable_cache_warns_and_still_prepares(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    model = _model()
    with pytest.warns(RuntimeWarning, match="could not cache the int8 WaveGlow form"):
        form = Int8WaveGlow(model, compile=False, cache_dir=blocked / "sub")
    assert torch.equal(_audio(form), _audio(Int8WaveGlow(model, compile=False)))


def test_prepare_inference_takes_cache_dir_for_int8_only(tmp_path):
    model = _model()
    prepared = model.prepare_inference(precision="int8", cache_dir=tmp_path)
    assert prepared.cache_path.is_file() and not prepared.from_cache
    again = model.prepare_inference(precision="int8", cache_dir=tmp_path)
    assert again.from_cache and again.cache_path == prepared.cache_path
    assert model.prepare_inference(precision="int8").cache_path is None
    with pytest.raises(ValueError, match="cache_dir keeps the int8 form"):
        model.prepare_inference(precision="bf16", cache_dir=tmp_path)


def test_the_folder_keeps_only_the_most_recently_used_forms(tmp_path):
    import os

    from waveglow.int8_cache import MAX_CACHED_FORMS

    paths = []
    for seed in range(MAX_CACHED_FORMS + 2):
        model = _model(seed)
        paths.append(_quiet(model=model, cache_dir=tmp_path).cache_path)
        os.utime(paths[-1], (1000 + seed, 1000 + seed))  # distinct use times, oldest first
        if seed == 1:
            first_model = _model(0)
            assert _quiet(model=first_model, cache_dir=tmp_path).from_cache  # using a form makes it recent
            paths[0].touch()
    kept = sorted(p.name for p in tmp_path.glob("waveglow-int8-*.pt"))
    assert len(kept) == MAX_CACHED_FORMS
    assert paths[-1].name in kept and paths[1].name not in kept
