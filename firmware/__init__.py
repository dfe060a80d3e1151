# e-lecteur reader firmware. MicroPython >= 1.23 and CPython: no dataclasses, typing, pathlib or f-string '='.
VERSION = "0.2.0"
