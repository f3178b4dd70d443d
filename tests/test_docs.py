"""The API reference shows every public method of every exported estimator (issue 11)."""

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _make_api():
    spec = importlib.util.spec_from_file_location("make_api", DOCS / "make_api.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_api_reference_is_current_and_complete():
    mod = _make_api()
    text = (DOCS / "api.md").read_text()
    assert text == mod.render(), "docs/api.md is stale: run docs/make_api.py"
    import glassnet

    for name in glassnet.__all__:
        obj = getattr(glassnet, name)
        if isinstance(obj, type):
            section = text.split(f"## `glassnet.{name}`")[1].split("\n## ")[0]
            for m in mod.public_methods(obj):
                assert f"| `{m}` |" in section, f"{name}.{m} missing from docs/api.md"
            assert mod.UNDOCUMENTED not in section, f"{name} has public methods without a docstring"
