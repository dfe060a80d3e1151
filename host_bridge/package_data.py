"""The one loader of the files the package ships beside its code: board profiles, their schema, the firmware
sources and the MicroPython runner.

In a git checkout they live in the repository's folders (`hardware/boards/`, `hardware/schema/`, `firmware/`,
`tools/micropython/`); a wheel carries them inside the package (`host_bridge/_shipped/...`, see setup.py),
so an installed `electeur` finds them without a checkout. Everything that needs one of these files asks here.

The MicroPython WebAssembly port itself is an npm package (`tools/micropython/package.json`), not in the wheel:
it is looked for in $ELECTEUR_MICROPYTHON_DIR, beside the runner (a checkout after `make setup`), then in the
user data folder, where the error message says how to install it.
"""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

import platformdirs

from host_bridge.errors import UserError

REPO = Path(__file__).resolve().parents[1]          # the checkout, when running from one
SHIPPED = Path(str(resources.files("host_bridge"))) / "_shipped"
IN_CHECKOUT = {"boards": "hardware/boards", "board_schema": "hardware/schema", "enclosure": "hardware/enclosure",
               "micropython": "tools/micropython"}
WASM_PACKAGE = "@micropython/micropython-webassembly-pyscript"
WASM_VERSION = "1.27.0"
ENV_MICROPYTHON = "ELECTEUR_MICROPYTHON_DIR"


def _folder(name: str) -> Path:
    shipped = SHIPPED / name
    return shipped if shipped.is_dir() else REPO / IN_CHECKOUT[name]


def boards_dir() -> Path:
    """The folder of board profiles (`<name>.json`)."""
    return _folder("boards")


def board_file(name: str) -> Path:
    """Where the profile of board `name` is (it may not exist: callers say which names do)."""
    return boards_dir() / f"{name}.json"


def board_schema() -> Path:
    """The JSON Schema of board profiles."""
    return _folder("board_schema") / "board.schema.json"


def stand_design() -> Path:
    """The reader stand's OpenSCAD source: its reading distance is what the optics checks hold a board to."""
    return _folder("enclosure") / "stand.scad"


def firmware_dir() -> Path:
    """The `firmware` package's folder: the sources `electeur deploy` compiles and the virtual reader runs."""
    return Path(str(resources.files("firmware")))


def micropython_runner() -> Path:
    """`run.mjs`, which runs a script under the MicroPython WebAssembly port with Node."""
    return _folder("micropython") / "run.mjs"


def micropython_script(name: str) -> Path:
    """A helper script shipped beside the runner (e.g. `qr_frames.py`)."""
    return _folder("micropython") / name


def micropython_module() -> Path:
    """`micropython.mjs` of the WebAssembly port; UserError saying how to install it when it is nowhere."""
    user = Path(platformdirs.user_data_dir("electeur")) / "micropython"
    places = ([Path(os.environ[ENV_MICROPYTHON])] if os.environ.get(ENV_MICROPYTHON) else []) + \
        [micropython_runner().parent, user]
    for place in places:
        module = place / "node_modules" / WASM_PACKAGE / "micropython.mjs"
        if module.is_file():
            return module
    raise UserError(f"the MicroPython WebAssembly port is not installed (looked in {', '.join(map(str, places))}); "
                    f"install it with `npm install --prefix {user} {WASM_PACKAGE}@{WASM_VERSION}`, "
                    f"or set ${ENV_MICROPYTHON} to a folder holding node_modules/{WASM_PACKAGE}")


def micropython_command(*args: str, heap: str = "192k") -> list[str]:
    """The argv that runs `run.mjs` under Node with the installed port: `args` are mounts, the script and its own."""
    node = shutil.which("node")
    if node is None:
        raise UserError("the MicroPython runtime needs Node.js (https://nodejs.org, or `apt install nodejs`)")
    return [node, str(micropython_runner()), "--wasm", str(micropython_module()), "--heap", heap, *args]
