"""Static check of the firmware against each board's MicroPython port, with the community stubs
(micropython-stubs on PyPI: `micropython-rp2-rpi-pico-stubs`, `micropython-esp32-esp32-generic[-s3]-stubs`,
1.27, installed by `make setup` into `.venv/micropython-stubs/PORT`). OpenMV publishes no stubs: not checkable.

What runs on a board: the modules reachable from its entry points (firmware/boot.py, firmware/main.py) through
`firmware` imports, where a camera driver (firmware/camera/X.py) counts only on a board whose profile names
that driver (the simulated camera, selectable by config, on every board) and an output (firmware/outputs/X.py)
only on a board that lists it. What is checked in them:

- every import of a module outside `firmware`: it must be in the port's stubs. An import inside
  `try: ... except ImportError` is an optional probe with a fallback (a host-only module such as zxingcpp or
  threading, an optional native decoder): listed when the port has no such module, never an error (a name
  missing from a module the port has is an error, guarded or not). The micropython-lib packages
  that `electeur deploy` installs (`usb`) are not part of a port: listed as such;
- every `from M import N`: N must be in M's stub;
- modules of a board's own image (the ESP32 camera builds' `camera`) are in no published stubs: listed, unchecked;
- every attribute chain on an imported module or name (`machine.Pin.OUT`, `micropython.kbd_intr`), and every
  attribute of an object made in the same file by calling a stubbed class (`self.wdt = WDT(...)` then
  `self.wdt.feed()`). Portable probes (`hasattr(M, "x")`, `getattr(M, "x", default)`, accesses inside
  `try: ... except AttributeError`) are checked and listed, but an absent one is not an error (the code has a
  fallback); accesses to M in the `else` of an `if` that tests `hasattr(M, ...)` (the branch for runtimes without
  it) are skipped. Chains through values whose type the stub does not spell out stop there.

`python -m host_bridge.devtools.port_api` prints, per board profile, every API checked and its status.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from host_bridge.package_data import boards_dir, firmware_dir

FIRMWARE = firmware_dir()
BOARDS = boards_dir()
STUBS = Path(sys.prefix) / "micropython-stubs"
ENTRY_POINTS = ("firmware.boot", "firmware.main")
CAMERA_MODULES = {"arducam_spi": "arducam", "esp32_camera": "esp32", "openmv_sensor": "openmv", "sim": "image_files"}
MIP_PACKAGES = {"usb": "usb-device-keyboard"}   # micropython-lib, installed by `electeur deploy --output hid`
# Modules of a board's own MicroPython image (the profile's flash.image_url), in no published stubs
IMAGE_MODULES = {"esp32_camera": ("camera",)}   # cnadler86/micropython-camera-API

OK, OPTIONAL, PROBED, MIP, IMAGE, MISSING = (
    "ok", "absent, optional (guarded import)", "absent, probed (hasattr/getattr, except AttributeError)",
    "micropython-lib (deploy installs it)", "board image's module: no stubs", "MISSING")


def stub_dir(profile: dict[str, Any]) -> str | None:
    """The stubs folder for a board profile's port, None where no stubs exist (OpenMV)."""
    if profile.get("port") == "rp2":
        return "rp2"
    if profile.get("port") == "esp32":
        return "esp32s3" if profile.get("mcu") == "esp32s3" else "esp32"
    return None


# ---- the stubs ---------------------------------------------------------------------------------------------

@dataclass
class StubModule:
    """The names a stub module defines: classes (their AST), other values (None), re-exports to follow."""

    name: str
    names: dict[str, object] = field(default_factory=dict)
    star: list[str] = field(default_factory=list)
    any_name: bool = False          # a module-level __getattr__: every name exists


class Stubs:
    """The stub modules of one port (a `pip install --target` folder), parsed on demand."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, StubModule | None] = {}

    def module(self, name: str) -> StubModule | None:
        if name not in self._cache:
            self._cache[name] = None            # a cycle of star imports ends here
            self._cache[name] = self._load(name)
        return self._cache[name]

    def _load(self, name: str) -> StubModule | None:
        rel = name.replace(".", "/")
        for base in (self.root, self.root / "stdlib"):
            for path in (base / f"{rel}.pyi", base / rel / "__init__.pyi"):
                if path.is_file():
                    mod = StubModule(name)
                    package = name if path.name == "__init__.pyi" else name.rpartition(".")[0]
                    self._collect(mod, ast.parse(path.read_text(encoding="utf-8")).body, package)
                    return mod
        return None

    def _collect(self, mod: StubModule, body: list[ast.stmt], package: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                mod.names[node.name] = node
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                mod.names[node.name] = None
                mod.any_name |= node.name == "__getattr__"
            elif isinstance(node, ast.Assign):
                mod.names.update((t.id, None) for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                mod.names[node.target.id] = None
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(node, package)
                for alias in node.names:
                    if alias.name == "*":
                        mod.star.append(source)
                    else:
                        mod.names[alias.asname or alias.name] = ("from", source, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    mod.names[alias.asname or top] = ("module", alias.name if alias.asname else top)
            elif isinstance(node, ast.If):
                self._collect(mod, node.body + node.orelse, package)
            elif isinstance(node, ast.Try):
                self._collect(mod, node.body + node.orelse + node.finalbody
                              + [s for h in node.handlers for s in h.body], package)

    def lookup(self, mod: StubModule, name: str, depth: int = 0) -> object:
        """What `name` is in `mod`: a StubModule, (ClassDef, StubModule), None (a value), or KeyError."""
        if name in mod.names:
            found = mod.names[name]
            if isinstance(found, ast.ClassDef):
                return found, mod
            if isinstance(found, tuple) and depth < 8:
                target = self.module(found[1])
                if found[0] == "module":
                    return target
                if target is None:
                    return None                 # from a module outside the stubs (typing...): exists, type unknown
                try:
                    return self.lookup(target, found[2], depth + 1)
                except KeyError:
                    sub = self.module(f"{found[1]}.{found[2]}")
                    return sub if sub is not None else None
            return None
        for source in mod.star:
            target = self.module(source)
            if target is not None:
                try:
                    return self.lookup(target, name, depth + 1)
                except KeyError:
                    pass
        sub = self.module(f"{mod.name}.{name}")
        if sub is not None:
            return sub
        if mod.any_name:
            return None
        raise KeyError(name)

    def member(self, cls: ast.ClassDef, mod: StubModule, name: str, depth: int = 0) -> object:
        """What attribute `name` of class `cls` is (same kinds as lookup); KeyError when no class has it."""
        for node in _flat(cls.body):
            if isinstance(node, ast.ClassDef) and node.name == name:
                return node, mod
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in (name, "__getattr__"):
                return None
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return None
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
                return None
        for base in cls.bases:
            if depth > 8 or not isinstance(base, ast.Name):
                return None                     # a base we do not follow: the attribute may come from it
            try:
                found = self.lookup(mod, base.id)
            except KeyError:
                return None
            if not isinstance(found, tuple):
                return None
            try:
                return self.member(found[0], found[1], name, depth + 1)
            except KeyError:
                continue
        raise KeyError(name)

    def resolve(self, module: str, path: tuple[str, ...]) -> tuple[str, object]:
        """(status, what) of `module.path...`: status OK or MISSING (with the part that is missing)."""
        mod = self.module(module)
        if mod is None:
            return MISSING, module
        current: object = mod
        for i, part in enumerate(path):
            try:
                if isinstance(current, StubModule):
                    current = self.lookup(current, part)
                elif isinstance(current, tuple):
                    current = self.member(current[0], current[1], part)
                else:
                    return OK, None             # a value of unknown type: the chain cannot be followed further
            except KeyError:
                return MISSING, ".".join((module,) + path[:i + 1])
        return OK, current


def _flat(body: list[ast.stmt]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for node in body:
        out += _flat(node.body + node.orelse) if isinstance(node, ast.If) else [node]
    return out


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".") if package else []
    base = parts[:len(parts) - node.level + 1] if node.level > 1 else parts
    return ".".join(base + ([node.module] if node.module else []))


# ---- the firmware -------------------------------------------------------------------------------------------

def _catches(handler: ast.ExceptHandler, name: str) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(t, ast.Name) and t.id in (name, "Exception", "BaseException") for t in types)


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST], error: str) -> bool:
    """Whether `node` sits in the body of a `try` that catches `error`."""
    child = node
    while child in parents:
        parent = parents[child]
        if isinstance(parent, ast.Try) and child in parent.body and any(_catches(h, error) for h in parent.handlers):
            return True
        child = parent
    return False


def _chain(node: ast.AST) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"]; None for anything else (calls, subscripts...)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id] + parts[::-1]
    return None


def module_file(name: str, root: Path = FIRMWARE) -> Path | None:
    parts = name.split(".")[1:]
    if not parts:
        return root / "__init__.py"
    for path in (root.joinpath(*parts[:-1], parts[-1] + ".py"), root.joinpath(*parts, "__init__.py")):
        if path.is_file():
            return path
    return None


def reachable(profile: dict[str, Any], root: Path = FIRMWARE) -> list[str]:
    """The firmware modules a board with this profile can run, from its entry points."""
    allowed = {f"firmware.camera.{CAMERA_MODULES.get(profile['camera']['driver'], '?')}", "firmware.camera.image_files"}
    allowed |= {f"firmware.outputs.{o}" for o in profile["outputs"]}
    seen: list[str] = []
    todo = list(ENTRY_POINTS)
    while todo:
        name = todo.pop()
        parts = name.split(".")
        chain = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]      # packages first: imported too
        for mod in chain:
            if mod in seen or module_file(mod, root) is None:
                continue
            if mod.rpartition(".")[0] in ("firmware.camera", "firmware.outputs") and mod not in allowed:
                continue
            seen.append(mod)
            todo += _firmware_imports(module_file(mod, root))  # type: ignore[arg-type]
    return sorted(seen)


def _firmware_imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "firmware":
            out.append(node.module or "")
            out += [f"{node.module}.{a.name}" for a in node.names]      # `from firmware import config`
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.split(".")[0] == "firmware"]
    return out


@dataclass(frozen=True)
class Use:
    """One API use: `api` (dotted; `Class().attr` for an instance's), where it is (file:line), the check's status."""

    api: str
    where: str
    status: str


def _hasattr_branch(node: ast.AST, parents: dict[ast.AST, ast.AST], base: str) -> bool:
    """Whether `node` is in the `else` of an `if` whose test calls hasattr(base, ...): the branch for runtimes
    without it (CPython)."""
    child = node
    while child in parents:
        parent = parents[child]
        if isinstance(parent, ast.If) and child in parent.orelse and any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "hasattr" and n.args
                and _chain(n.args[0]) == [base] for n in ast.walk(parent.test)):
            return True
        child = parent
    return False


def uses(path: Path, stubs: Stubs, where: str, image_modules: tuple[str, ...] = ()) -> list[Use]:
    """Every port API `path` imports or uses, checked against `stubs`; source strings the module runs with
    `exec(NAME)` or `exec("...")` (firmware/qr/viper.py's viper code, compiled on the board; fast.py's probe) are
    checked as code too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    strings = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
               and isinstance(n.value.value, str) for t in n.targets if isinstance(t, ast.Name)}
    found = _tree_uses(tree, stubs, where, image_modules)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "exec" and node.args):
            continue
        arg = node.args[0]
        if isinstance(arg, ast.Name) and arg.id in strings:
            found += _tree_uses(ast.parse(strings[arg.id]), stubs, f"{where} ({arg.id})", image_modules)
        elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found += _tree_uses(ast.parse(arg.value), stubs, f"{where}:{node.lineno} (exec)", image_modules)
    return found


def _tree_uses(tree: ast.Module, stubs: Stubs, where: str, image_modules: tuple[str, ...]) -> list[Use]:
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    out: list[Use] = []
    bound: dict[str, tuple[str, tuple[str, ...], bool]] = {}     # local name -> (module, path, guarded)

    def check(module: str, attrs: tuple[str, ...], guarded: bool, node: ast.AST, probe: bool = False) -> None:
        top = module.split(".")[0]
        api = ".".join((module,) + attrs)
        at = f"{where}:{getattr(node, 'lineno', 0)}"
        if top in MIP_PACKAGES or top in image_modules:
            out.append(Use(api, at, MIP if top in MIP_PACKAGES else IMAGE))
            return
        status, what = stubs.resolve(module, attrs)
        if status == MISSING and guarded and stubs.module(top) is None:
            status = OPTIONAL
        elif status == MISSING and probe:
            status = PROBED
        elif status == MISSING:
            status = f"{MISSING}: {what}"
        out.append(Use(api, at, status))

    for node in ast.walk(tree):
        guarded = _guarded(node, parents, "ImportError")
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "firmware":
                    continue
                check(alias.name, (), guarded, node)
                local = alias.asname or alias.name.split(".")[0]
                bound[local] = (alias.name if alias.asname else local, (), guarded)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] != "firmware":
            for alias in node.names:
                check(node.module or "", (alias.name,), guarded, node)
                bound[alias.asname or alias.name] = (node.module or "", (alias.name,), guarded)
    probed = {(".".join(c), a.value): n for n in ast.walk(tree)
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("hasattr", "getattr")
              and len(n.args) >= 2 and (c := _chain(n.args[0])) and isinstance(a := n.args[1], ast.Constant)
              and isinstance(a.value, str)}
    for (base, attr), call in probed.items():
        if base in bound:
            module, path_, guarded = bound[base]
            check(module, path_ + (attr,), guarded, call, probe=True)
    instances: dict[str, tuple[str, tuple[str, ...]]] = {}    # "self.wdt" -> its class's module and path
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            made = _chain(node.value.func)
            if made and made[0] in bound:
                module, path_, _ = bound[made[0]]
                _, what = stubs.resolve(module, path_ + tuple(made[1:]))
                if isinstance(what, tuple):         # a class of the stubs: its instances' attributes are checked
                    for target in node.targets:
                        if (t := _chain(target)) is not None:
                            instances[".".join(t)] = (module, path_ + tuple(made[1:]))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or isinstance(parents.get(node), ast.Attribute):
            continue                            # not the outermost of its chain
        chain = _chain(node)
        if not chain or _hasattr_branch(node, parents, chain[0]):
            continue
        if any((".".join(chain[:i]), chain[i]) in probed for i in range(1, len(chain))):
            continue                            # listed once, from its hasattr/getattr
        probe = _guarded(node, parents, "AttributeError")
        for i in range(len(chain) - 1, 0, -1):
            if ".".join(chain[:i]) in instances:
                module, path_ = instances[".".join(chain[:i])]
                _check_instance(stubs, module, path_, tuple(chain[i:]), f"{where}:{node.lineno}", out, probe)
                break
        else:
            if chain[0] in bound:
                module, path_, guarded = bound[chain[0]]
                check(module, path_ + tuple(chain[1:]), guarded, node, probe)
    return out


def _check_instance(stubs: Stubs, module: str, cls_path: tuple[str, ...], attrs: tuple[str, ...], at: str,
                    out: list[Use], probe: bool) -> None:
    """An attribute of an instance of the stub class module.cls_path."""
    api = ".".join((module,) + cls_path) + "()." + ".".join(attrs)
    status, what = stubs.resolve(module, cls_path)
    if isinstance(what, tuple):
        try:
            stubs.member(what[0], what[1], attrs[0])
        except KeyError:
            status = PROBED if probe else f"{MISSING}: {api}"
    out.append(Use(api, at, status))


def check_board(profile: dict[str, Any], stubs_root: Path = STUBS, root: Path = FIRMWARE) -> list[Use] | None:
    """Every API the firmware uses on this board, checked; None when its port has no stubs (OpenMV)."""
    port = stub_dir(profile)
    if port is None:
        return None
    if not (stubs_root / port).is_dir():
        raise FileNotFoundError(f"{stubs_root / port}: no stubs for port {port} (run `make setup`)")
    stubs = Stubs(stubs_root / port)
    found: list[Use] = []
    for name in reachable(profile, root):
        path = module_file(name, root)
        assert path is not None
        found += uses(path, stubs, path.relative_to(root.parent).as_posix(),
                      IMAGE_MODULES.get(profile["camera"]["driver"], ()))
    return found


def profiles(boards: Path = BOARDS) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(boards.glob("*.json"))}


def report(boards: Path = BOARDS, stubs_root: Path = STUBS, root: Path = FIRMWARE) -> tuple[str, int]:
    """The APIs checked per board profile, grouped by status (a missing one with where it is used), and the
    number of uses missing from their port."""
    lines, missing = [], 0
    for name, profile in profiles(boards).items():
        found = check_board(profile, stubs_root, root)
        if found is None:
            lines.append(f"{name} (port {profile.get('port')}): not checkable, no stubs published for this port")
            continue
        by_status: dict[str, set[str]] = {}
        for use in found:
            by_status.setdefault(use.status, set()).add(use.api if not use.status.startswith(MISSING)
                                                         else f"{use.api} ({use.where})")
            missing += use.status.startswith(MISSING)
        lines.append(f"{name} (port {profile['port']}, stubs {stub_dir(profile)}): {len(reachable(profile, root))} "
                     f"modules, {len(found)} uses of {len({u.api for u in found})} APIs")
        for status in sorted(by_status, key=lambda st: (st != OK, st)):
            lines.append(f"  {status}: {', '.join(sorted(by_status[status]))}")
    return "\n".join(lines), missing


if __name__ == "__main__":
    text, count = report()
    print(text)
    print(f"{count} API use(s) missing from their port")
    sys.exit(1 if count else 0)
