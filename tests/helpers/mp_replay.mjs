// Replays raw-REPL code blocks on real MicroPython 1.27 (the WebAssembly port, run by Node).
// stdin: JSON list of code strings; stdout: JSON list of {out, err} per block (err = exception text or "").
import { loadMicroPython } from "../../tools/micropython/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs";

let chunks = [];
for await (const c of process.stdin) chunks.push(c);
const blocks = JSON.parse(Buffer.concat(chunks).toString("utf8"));
let out = "";
const mp = await loadMicroPython({ heapsize: 192 * 1024, stdout: (l) => { out += l + "\n"; },
                                   stderr: (l) => { out += l + "\n"; } });
const results = [];
for (const code of blocks) {
  out = "";
  let err = "";
  try { mp.runPython(code); } catch (e) { err = String(e.message || e); }
  results.push({ out, err });
}
process.stdout.write(JSON.stringify(results));
process.exit(0);
