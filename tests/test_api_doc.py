"""docs/api.md lists the library's names: each one it names must exist."""

from __future__ import annotations

import re
from pathlib import Path

import tinycolor as tc
from tinycolor import functional as F
from tinycolor import nn, optim
from tinycolor.utils import data

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"

# names in code spans that are arguments, state keys or a placeholder, not attributes
ARGUMENTS = {
    *("groups", "ignore_index", "label_smoothing", "padding_idx", "padding_mode", "reduction"),
    *("is_causal", "map_location", "weights_only", "weight_orig", "weight_u", "weight_v"),
    *("attn_mask", "key_padding_mask", "add_bias_kv", "add_zero_attn", "kdim", "vdim"),
    *("T_max", "gamma", "max_norm", "scale_grad_by_freq"),
    "NAME",
}


def test_every_name_the_api_page_gives_exists():
    text = DOC.read_text(encoding="utf-8")
    names = set(re.findall(r"`(?:tc\.|F\.|nn\.|optim\.|x\.)?([A-Za-z_]\w*)[`(]", text))
    where = (tc, F, nn, optim, data, nn.utils, tc.zeros(1), nn.Module, nn.Embedding, optim.SGD)
    where += (tc.autograd.RemovableHandle, nn.init)
    missing = sorted(n for n in names - ARGUMENTS if not any(hasattr(o, n) for o in where))
    assert not missing, f"docs/api.md names what the library does not have: {missing}"
    assert len(names) > 200  # the page was read
