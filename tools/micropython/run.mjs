// Runs a Python script under real MicroPython 1.27 (the WebAssembly port from the npm registry) with Node.
//
//   node tools/micropython/run.mjs [--heap 192k] [--strict-heap] [--mount HOSTDIR:MPDIR]... SCRIPT.py [ARG...]
//
// - The GC heap starts at --heap bytes. This port grows its heap on demand instead of raising
//   MemoryError, so callers check `micropython.mem_info()`'s "GC: total" to prove a fit; with --strict-heap
//   the runner stops the script (exit 1, "MemoryError" on stderr) as soon as it sees the heap has grown, as
//   a board with that much free heap would have failed (checked while the script awaits). It also collects
//   garbage only from top-level C (gc.collect() inside running Python frees nothing): this runner collects
//   every 2 ms while the script awaits (with the JS GC every 50 ms, which frees await proxies), so code
//   that awaits now and then (firmware.clock.pause) behaves as on a board.
// - --mount copies HOSTDIR's .py/.json/.pgm/.jpg/.mpy files (recursively) into MPDIR of the in-memory
//   filesystem; /lib is on sys.path, so mount the firmware package at /lib/firmware.
// - stdout/stderr are raw bytes (sys.stdout.buffer.write works for binary protocols).
// - Module `hostio` gives the script non-blocking stdin, with a board's interrupt character (below): hostio.read() -> Uint8Array (bytes(x) to convert,
//   empty when nothing arrived), hostio.eof() -> True once stdin has closed. Await asyncio.sleep_ms() to let
//   input arrive. asyncio.run(coro) works as on a board when it is the script's last statement at top level
//   or inside functions called last (see below).
// - Exit status: SystemExit's code, 1 on an uncaught exception (traceback on stderr).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";

const here = path.dirname(fileURLToPath(import.meta.url));
const { loadMicroPython } = await import(
  path.join(here, "node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs"));

function usage(msg) {
  process.stderr.write(`run.mjs: ${msg}\nusage: node run.mjs [--heap 192k] [--strict-heap] [--mount HOSTDIR:MPDIR]... SCRIPT.py [ARG...]\n`);
  process.exit(2);
}

function parseSize(text) {
  const m = /^(\d+)([kKmM]?)$/.exec(text);
  if (!m) usage(`bad heap size '${text}'`);
  return parseInt(m[1], 10) * ({ "": 1, k: 1024, m: 1048576 }[m[2].toLowerCase()]);
}

let heap = 192 * 1024;
let strictHeap = false;
const mounts = [];
const argv = process.argv.slice(2);
while (argv.length && argv[0].startsWith("--")) {
  const opt = argv.shift();
  if (opt === "--heap") heap = parseSize(argv.shift() ?? "");
  else if (opt === "--strict-heap") strictHeap = true;
  else if (opt === "--mount") {
    const spec = argv.shift() ?? "";
    const i = spec.lastIndexOf(":");
    if (i <= 0) usage(`--mount wants HOSTDIR:MPDIR, got '${spec}'`);
    mounts.push([spec.slice(0, i), spec.slice(i + 1)]);
  } else usage(`unknown option ${opt}`);
}
if (!argv.length) usage("no script given");
const script = argv[0];

const mp = await loadMicroPython({
  heapsize: heap,
  linebuffer: false,
  stdout: (b) => process.stdout.write(b),
  stderr: (b) => process.stderr.write(b),
});

function mkdirs(dir) {
  let cur = "";
  for (const part of dir.split("/").filter(Boolean)) {
    cur += "/" + part;
    try { mp.FS.mkdir(cur); } catch (e) { /* exists */ }
  }
}

const COPIED = /\.(py|mpy|json|pgm|jpg|txt)$/;
function copyTree(src, dst) {
  mkdirs(dst);
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    if (entry.name === "__pycache__" || entry.name.startsWith(".")) continue;
    const s = path.join(src, entry.name), d = dst + "/" + entry.name;
    if (entry.isDirectory()) copyTree(s, d);
    else if (COPIED.test(entry.name)) mp.FS.writeFile(d, fs.readFileSync(s));
  }
}
for (const [host, target] of mounts) {
  if (!fs.existsSync(host)) usage(`mount source not found: ${host}`);
  copyTree(host, target);
}

let pending = [];
let stdinClosed = false;
process.stdin.on("data", (d) => pending.push(d));
process.stdin.on("end", () => { stdinClosed = true; });
process.stdin.on("error", () => { stdinClosed = true; });
mp.registerJsModule("_hostio_js", {
  read: () => { const d = Buffer.concat(pending); pending = []; return new Uint8Array(d); },
  eof: () => stdinClosed && pending.length === 0,
});

// asyncio.run: this port has no blocking event loop (tasks run on Node's), so a plain call would return at
// once. A top-level `asyncio.run(...)` (column 0) is rewritten to `await asyncio.run(...)` (the port allows
// top-level await); a call anywhere else registers its coroutine, awaited in order once the script body ends.
// The serial line as a board's: the interrupt character (0x03 at start) raises KeyboardInterrupt unless
// micropython.kbd_intr(-1) turned it off; the bytes before it are dropped (MicroPython clears its stdin ring
// buffer), those after it kept. A board raises it the moment the byte arrives; here input arrives only while
// the script awaits, and the script sees it at its next hostio.read().
mp.runPython(`import sys, micropython as _mp, _hostio_js
class _Board:
    intr = 3
    def kbd_intr(self, c):
        _Board.intr = c
        _mp.kbd_intr(c)
    def __getattr__(self, name):
        return getattr(_mp, name)
class _Hostio:
    rest = b""
    def read(self):
        d = _Hostio.rest + bytes(_hostio_js.read())
        _Hostio.rest = b""
        c = _Board.intr
        if c >= 0 and c in d:
            _Hostio.rest = d[d.rfind(bytes((c,))) + 1:]
            raise KeyboardInterrupt
        return d
    def eof(self):
        return not _Hostio.rest and _hostio_js.eof()
sys.modules["micropython"] = _Board()
sys.modules["hostio"] = _Hostio()
`);
mp.runPython(`import sys, asyncio
sys.argv[:] = ${JSON.stringify(argv)}
_hostio_pending = []
async def _hostio_await(coro):
    if coro in _hostio_pending:
        _hostio_pending.remove(coro)
    return await coro
def _hostio_run(coro):
    _hostio_pending.append(coro)
    return _hostio_await(coro)
asyncio.run = _hostio_run
`);
const source = fs.readFileSync(script, "utf8").replace(/^asyncio\.run\(/gm, "await asyncio.run(");

// This port collects garbage only from top-level C (not when an allocation fails inside running Python):
// collect from the top level while the script awaits, as a board's GC would on allocation failure.
// Each await leaves a JS proxy that the Python side frees only once JavaScript's own GC finalises it:
// so the JS GC is run too (every 50 ms), and long runs do not creep.
v8.setFlagsFromString("--expose-gc");
const jsGc = vm.runInNewContext("gc");
let ticks = 0;
mp.runPython("import gc");
// gc.mem_free() counts the room a new heap area could take too: free + allocated grows exactly when the heap does
const heapSum = () => { mp.runPython("_heap_sum = gc.mem_free() + gc.mem_alloc()"); return mp.globals.get("_heap_sum"); };
const startSum = heapSum();
const gcTimer = setInterval(() => {
  if (++ticks % 25 === 0) jsGc();
  try { mp.runPython("gc.collect()"); } catch (e) { /* script exiting */ }
  if (strictHeap && heapSum() > startSum) {
    process.stderr.write(`MemoryError: the script needed more than the board's heap (--heap ${heap} bytes)\n`);
    process.exit(1);
  }
}, 2);

let status = 0;
try {
  await mp.runPythonAsync(source);
  await mp.runPythonAsync("while _hostio_pending:\n    await _hostio_pending.pop(0)\n");
} catch (error) {
  if (error.name !== "PythonError") throw error;
  if (error.type === "SystemExit") {
    const m = /(-?\d+)\s*$/.exec(error.message);
    status = m ? parseInt(m[1], 10) : 0;
  } else {
    process.stderr.write(error.message.endsWith("\n") ? error.message : error.message + "\n");
    status = 1;
  }
}
clearInterval(gcTimer);
process.stdin.destroy();
process.exitCode = status;
