"""``cupyx.scipy`` for the CuPy stand-in: only ``special.erf`` (GELU's)."""
