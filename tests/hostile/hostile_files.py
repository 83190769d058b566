"""A corpus of malicious and damaged checkpoint files, built by the tests (nothing hostile is stored).

Every file is made with ``torch.save`` or by editing its bytes; a file that
carries a payload names a marker path that exists only if the payload ran.
:func:`build_corpus` writes them all and returns ``{name: HostileFile}``.
"""
from __future__ import annotations

import builtins
import importlib
import io
import os
import pickle
import runpy
import shutil
import subprocess
import sys
import types
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import torch

from checkpoints.unpickler import PickledModule, restricted_load


@dataclass
class HostileFile:
    """One corpus entry: ``expect`` is a regular expression the main loaders' message must match."""

    path: Path
    expect: str
    marker: Optional[Path] = None


class _Call:
    """Pickles as ``func(*args)``: an unpickler that runs it creates the marker file."""

    def __init__(self, func: Callable, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def refused_global_payloads(marker_dir: Path) -> Dict[str, Callable[[Path], _Call]]:
    """Every family of dangerous global, each as ``marker path -> payload`` that would create it."""
    script = marker_dir / "payload_script.py"

    def runpy_payload(marker: Path) -> _Call:
        script.write_text(f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
        return _Call(runpy.run_path, str(script))

    return {
        "posix.system": lambda m: _Call(os.system, f"touch {m}"),
        "os.popen": lambda m: _Call(os.popen, f"touch {m}"),
        "builtins.eval": lambda m: _Call(builtins.eval, f"open({str(m)!r}, 'w').close()"),
        "builtins.exec": lambda m: _Call(builtins.exec, f"open({str(m)!r}, 'w').close()"),
        "io.open": lambda m: _Call(open, str(m), "w"),
        "subprocess.Popen": lambda m: _Call(subprocess.Popen, ["touch", str(m)]),
        "subprocess.run": lambda m: _Call(subprocess.run, ["touch", str(m)]),
        "runpy.run_path": runpy_payload,
        "pickle.loads": lambda m: _Call(pickle.loads, pickle.dumps(_Call(os.system, f"touch {m}"), protocol=2)),
        "shutil.copyfile": lambda m: _Call(shutil.copyfile, __file__, str(m)),
    }


# ---------------------------------------------------------------------------------------------------------
# Rebuilding NVIDIA/waveglow pickles: the golden file's records become objects of stand-in ``glow`` classes.

def _glow_classes() -> types.ModuleType:
    module = types.ModuleType("glow")
    for name in ("WaveGlow", "WN", "Invertible1x1Conv"):
        setattr(module, name, type(name, (torch.nn.Module,), {"__module__": "glow"}))
    return module


def _rebuild(value: Any, glow: types.ModuleType, seen: Dict[int, Any]) -> Any:
    if isinstance(value, PickledModule):
        if id(value) in seen:
            return seen[id(value)]
        module_name, _, class_name = value.qualname.rpartition(".")
        cls = getattr(glow, class_name) if module_name == "glow" else getattr(importlib.import_module(module_name),
                                                                               class_name)
        obj = cls.__new__(cls)
        seen[id(value)] = obj
        obj.__dict__.update({k: _rebuild(v, glow, seen) for k, v in value.attributes.items()})
        return obj
    if isinstance(value, dict):
        return type(value)((k, _rebuild(v, glow, seen)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(_rebuild(v, glow, seen) for v in value)
    if isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter) and value.is_floating_point():
        return torch.nn.Parameter(value.clone(), requires_grad=False)
    return value


def save_glow_pickle(golden: Path, path: Path, legacy: bool, edit: Callable[[Any], None] = lambda model: None) -> Path:
    """Re-save the golden NVIDIA/waveglow pickle with ``edit(model)`` applied to the rebuilt ``glow.WaveGlow``."""
    glow = _glow_classes()
    checkpoint = _rebuild(restricted_load(golden), glow, {})
    edit(checkpoint["model"])
    sys.modules["glow"] = glow  # only while pickling: the class names must resolve for pickle to name them
    try:
        with warnings.catch_warnings():  # "Couldn't retrieve source code for container": there is none
            warnings.simplefilter("ignore", UserWarning)
            torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy)
    finally:
        del sys.modules["glow"]
    return path


# ---------------------------------------------------------------------------------------------------------
# Byte-level edits.

def deflate_zip(source: bytes, path: Path) -> Path:
    """Rewrite a torch zip with every entry deflated (torch stores them): a zip bomb when they are zeros."""
    with zipfile.ZipFile(io.BytesIO(source)) as archive, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in archive.infolist():
            out.writestr(info.filename, archive.read(info), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return path


def drop_legacy_storage_data(source: Path, path: Path) -> Path:
    """Keep a legacy file's pickle but list no storages after it: its tensors would stay uninitialised."""
    data = source.read_bytes()
    stream = io.BytesIO(data)
    for _ in range(3):  # magic number, protocol, sys info
        pickle.load(stream)
    _Walker(stream).load()
    path.write_bytes(data[: stream.tell()] + pickle.dumps([], protocol=2))
    return path


class _Walker(pickle.Unpickler):
    """Follows a pickle to its end without building any of its objects (every global becomes :class:`_Inert`)."""

    def find_class(self, module: str, name: str) -> type:
        return _Inert

    def persistent_load(self, pid: Any) -> type:
        return _Inert


class _Inert(dict):
    """Accepts whatever a pickle does to an object (call, item and list appends, state) and keeps nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def append(self, item: Any) -> None:
        pass

    def extend(self, items: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


def _hub(golden: Path) -> Dict[str, Any]:
    checkpoint = torch.load(golden, weights_only=True)
    checkpoint["state_dict"] = {k.split("module.", 1)[-1]: v for k, v in checkpoint["state_dict"].items()}
    return checkpoint


def _save(obj: Any, path: Path, legacy: bool = False, protocol: int = 2) -> Path:
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy, pickle_protocol=protocol)
    return path


def build_corpus(folder: Path, golden_dir: Path) -> Dict[str, HostileFile]:
    """Write every hostile file into ``folder`` (markers in ``folder/markers``); returns them by name."""
    folder.mkdir(parents=True, exist_ok=True)
    markers = folder / "markers"
    markers.mkdir(exist_ok=True)
    corpus: Dict[str, HostileFile] = {}

    def add(name: str, path: Path, expect: str, marker: Optional[Path] = None) -> None:
        corpus[name] = HostileFile(path, expect, marker)

    # every refused-global family, zip and legacy (and protocol 4's STACK_GLOBAL for the zip)
    for family, payload in refused_global_payloads(markers).items():
        for fmt, legacy, protocol in (("zip", False, 2), ("legacy", True, 2), ("zip-p4", False, 4)):
            if fmt == "zip-p4" and family not in ("posix.system", "builtins.eval"):
                continue
            marker = markers / f"{family}-{fmt}"
            obj = {"state_dict": {"w": torch.ones(2)}, "config": {}, "hook": payload(marker)}
            add(f"global-{family}-{fmt}", _save(obj, folder / f"global-{family}-{fmt}.pt", legacy, protocol),
                r"refused to unpickle .*this file asks to run code", marker)
    add("global-in-glow-pickle", save_glow_pickle(
        golden_dir / "waveglow_tiny_glow_pickle.pt", folder / "global-in-glow-pickle.pt", legacy=True,
        edit=lambda model: model.__dict__.update(evil=_Call(os.system, f"touch {markers / 'glow-pickle'}"))),
        r"refused to unpickle posix\.system: this file asks to run code", markers / "glow-pickle")

    # memory bombs
    bomb = io.BytesIO()
    hub = _hub(golden_dir / "waveglow_tiny_ngc.pt")
    torch.save({**hub, "padding": torch.zeros(16 << 20)}, bomb)  # 64 MiB of zeros deflate to ~64 KiB
    add("zip-bomb-hub", deflate_zip(bomb.getvalue(), folder / "zip-bomb-hub.pt"), r"zip bomb")
    glow_bomb = io.BytesIO()
    save_glow_pickle(golden_dir / "waveglow_tiny_glow_pickle.pt", folder / "_glow.pt", legacy=False,
                     edit=lambda model: model._buffers.update(padding=torch.zeros(16 << 20)))
    glow_bomb.write((folder / "_glow.pt").read_bytes())
    (folder / "_glow.pt").unlink()
    add("zip-bomb-glow", deflate_zip(glow_bomb.getvalue(), folder / "zip-bomb-glow.pt"), r"zip bomb")

    tacotron = _hub(golden_dir / "tacotron2_tiny_ngc.pt")
    embedding = tacotron["state_dict"]["embedding.weight"]
    stride0 = {**tacotron, "state_dict": {**tacotron["state_dict"],
                                          "embedding.weight": torch.zeros(1, 64).expand(20_000_000, 64)},
               "config": {**tacotron["config"], "n_symbols": 20_000_000, "symbols_embedding_dim": 64}}
    add("stride0-tacotron2", _save(stride0, folder / "stride0-tacotron2.pt"), r"stride-0 or overlapping view")
    small = {**tacotron, "state_dict": {**tacotron["state_dict"],
                                        "embedding.weight": embedding[:1].expand(60_000, embedding.shape[1])},
             "config": {**tacotron["config"], "n_symbols": 60_000}}
    add("stride0-tacotron2-in-limits", _save(small, folder / "stride0-small.pt"), r"stride-0 or overlapping view")
    base = torch.zeros(4096 + 511)
    overlap = {**hub, "state_dict": {**hub["state_dict"], "upsample.weight": base.as_strided((4096, 512), (1, 1))}}
    add("overlapping-view-waveglow", _save(overlap, folder / "overlap.pt"), r"stride-0 or overlapping view")
    for fmt, legacy in (("zip", False), ("legacy", True)):
        add(f"stride0-glow-pickle-{fmt}", save_glow_pickle(
            golden_dir / "waveglow_tiny_glow_pickle.pt", folder / f"stride0-glow-{fmt}.pt", legacy,
            edit=lambda model: model._modules["upsample"]._parameters.update(
                weight=torch.nn.Parameter(torch.zeros(1, 1, 1).expand(40_000, 40_000, 1), requires_grad=False))),
            r"stride-0 or overlapping view")

    # hostile configs and pickled attributes
    bad_waveglow_configs = {
        "n_group-60000": {"n_group": 60000}, "n_mel_channels-str": {"n_mel_channels": "80"},
        "n_flows-huge": {"n_flows": 10 ** 9}, "wn-list": {"WN_config": [1, 2, 3]},
        "n_channels-nan": {"WN_config": {"n_layers": 2, "kernel_size": 3, "n_channels": float("nan")}},
    }
    for name, change in bad_waveglow_configs.items():
        add(f"config-waveglow-{name}", _save({**hub, "config": {**hub["config"], **change}},
                                             folder / f"config-wg-{name}.pt"), r"config")
    add("config-waveglow-string", _save({**hub, "config": "n_group=60000"}, folder / "config-wg-string.pt"),
        r"config")
    for name, change in {"n_symbols-huge": {"n_symbols": 10 ** 9}, "mask-padding-str": {"mask_padding": "yes"},
                         "max-steps-huge": {"max_decoder_steps": 10 ** 12}}.items():
        add(f"config-tacotron2-{name}", _save({**tacotron, "config": {**tacotron["config"], **change}},
                                              folder / f"config-t2-{name}.pt"), r"config")
    glow_edits: Dict[str, Callable[[Any], None]] = {
        "attribute-n_group-60000": lambda m: m.__dict__.update(n_group=60000),
        "attribute-n_early_every-0": lambda m: m.__dict__.update(n_early_every=0),
        "parameters-5": lambda m: m.__dict__.update(_parameters=5),
        "modules-cycle": lambda m: m._modules["WN"]._modules["0"]._modules.update(loop=m._modules["WN"]._modules["0"]),
        "string-parameter": lambda m: m._modules["upsample"]._parameters.update(weight="not a tensor"),
        "modules-int": lambda m: m._modules.update(extra=7),
    }
    for name, edit in glow_edits.items():
        add(f"state-{name}", save_glow_pickle(golden_dir / "waveglow_tiny_glow_pickle.pt", folder / f"state-{name}.pt",
                                              legacy=False, edit=edit),
            r"config|cycle|contains itself|not a (dict|Tensor|PickledModule)|n_early_every|n_group")
    add("state-dict-int-key", _save({"state_dict": {5: torch.ones(1)}, "config": hub["config"]},
                                    folder / "state-int-key.pt"), r"state dict|no WaveGlow|not all tensors")

    # damaged files
    add("legacy-unfilled-glow", drop_legacy_storage_data(golden_dir / "waveglow_tiny_glow_pickle_legacy.pt",
                                                         folder / "legacy-unfilled-glow.pt"), r"never contains|more than the file holds")
    legacy_hub = _save(hub, folder / "_legacy_hub.pt", legacy=True)
    add("legacy-unfilled-hub", drop_legacy_storage_data(legacy_hub, folder / "legacy-unfilled-hub.pt"),
        r"never contains|more than the file holds")
    legacy_hub.unlink()
    whole = (golden_dir / "waveglow_tiny_ngc.pt").read_bytes()
    (folder / "truncated.pt").write_bytes(whole[: len(whole) // 2])
    add("truncated-zip", folder / "truncated.pt", r"truncated")
    (folder / "empty.pt").write_bytes(b"")
    add("empty", folder / "empty.pt", r"empty")
    (folder / "page.pt").write_bytes(b"<!DOCTYPE html><html><body>confirm download</body></html>\n")
    add("html-page", folder / "page.pt", r"truncated or not a PyTorch checkpoint")
    (folder / "a-directory.pt").mkdir(exist_ok=True)
    add("directory", folder / "a-directory.pt", r"is a directory")
    fifo = folder / "fifo.pt"
    if not fifo.exists():
        os.mkfifo(fifo)
    add("fifo", fifo, r"is a FIFO")
    zero = folder / "zero.pt"
    if not zero.is_symlink():
        zero.symlink_to("/dev/zero")
    add("symlink-dev-zero", zero, r"is a device \(through a symbolic link\)")
    return corpus
