"""Import PaddleClas 2.6.0 backbone modules by file path without running the
package __init__ (which pulls in the whole training stack).

`load(relpath, subs)` executes e.g. "legendary_models/pp_lcnet.py" as module
paddleclas.ppcls.arch.backbone.legendary_models.pp_lcnet, optionally after plain
text substitutions `subs=[(old, new), ...]` (used only to narrow hard-coded
channel widths; every substitution must match, which is asserted)."""
import importlib.util
import logging
import os
import sys
import types

_spec = importlib.util.find_spec("paddleclas")  # locates the wheel, does not import it
ROOT = _spec.submodule_search_locations[0]
BB = os.path.join(ROOT, "ppcls", "arch", "backbone")
PKG = "paddleclas.ppcls.arch.backbone"


def _pkg(name, path):
    m = types.ModuleType(name)
    m.__path__ = [path]
    sys.modules[name] = m
    return m


def _setup():
    if PKG in sys.modules:
        return
    _pkg("paddleclas", ROOT)
    _pkg("paddleclas.ppcls", os.path.join(ROOT, "ppcls"))
    _pkg("paddleclas.ppcls.arch", os.path.join(ROOT, "ppcls", "arch"))
    _pkg(PKG, BB)
    for sub in ("legendary_models", "model_zoo", "base"):
        _pkg(PKG + "." + sub, os.path.join(BB, sub))
    utils = _pkg("paddleclas.ppcls.utils", os.path.join(ROOT, "ppcls", "utils"))
    logger = types.ModuleType("paddleclas.ppcls.utils.logger")
    _log = logging.getLogger("ppcls")
    for fn in ("info", "warning", "error", "debug"):
        setattr(logger, fn, getattr(_log, fn))
    sys.modules[logger.__name__] = logger
    utils.logger = logger
    sl = types.ModuleType("paddleclas.ppcls.utils.save_load")

    def _no_pretrained(*a, **k):
        raise RuntimeError("pretrained weights are not used by the fixture generator")

    sl.load_dygraph_pretrain = _no_pretrained
    sl.load_dygraph_pretrain_from_url = _no_pretrained
    sys.modules[sl.__name__] = sl
    utils.save_load = sl


def load(relpath, subs=()):
    _setup()
    name = PKG + "." + relpath[:-3].replace("/", ".")
    path = os.path.join(BB, relpath)
    src = open(path, encoding="utf-8").read()
    for old, new in subs:
        assert old in src, (relpath, old)
        src = src.replace(old, new)
    if subs:
        name += "_narrowed%d" % (abs(hash(tuple(subs))) % 10**8)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = name.rsplit(".", 1)[0]
    sys.modules[name] = mod
    exec(compile(src, path, "exec"), mod.__dict__)
    return mod
