"""Viper twins of the per-pixel loops of `binarize` (tile statistics, 5x5 tile means, row threshold), of the
finder row scan (`finder.row_finders`) and of the grid sampler's rows (`grid.sample_row`).

Imported by the decoder only where the port compiles viper (ESP32, RP2040...); elsewhere the import
fails (SyntaxError, ImportError) and the portable loops run. The viper code is compiled on the board from
`viper.SOURCE`, so every file compiles with a plain `mpy-cross` (which rejects viper without -march).
A one-line probe comes first: a port without viper fails on it before parsing the 6 KB of source, which the
wasm port's conservative GC would otherwise keep (measured: 6.7 KB of a 192 KB heap). Both paths give
identical results: tests run SOURCE under CPython with stand-ins for `ptr8`/`ptr16`, and compile it for
armv6m/armv7m/xtensawin with mpy-cross.
"""
exec("import micropython\n@micropython.viper\ndef _probe():\n    pass\n")
from firmware.qr.viper import box_means, row_bits, row_finders, sample_row, tile_means  # noqa: E402,F401
