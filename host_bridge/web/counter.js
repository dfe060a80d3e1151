// Counter page: the patient in front of the pharmacist (the current counter session) at the top, earlier
// patients collapsed below, live from the bridge. Payload data is only ever set with textContent.
"use strict";

const MAX_LOOKUPS = 60;   // lookups kept by the page (the journal and the API keep them all)
const MAX_EARLIER = 8;    // earlier sessions listed
const MAX_SHOWN = 160;    // characters of one value on a card; the full read stays in the journal and the API
// Characters that are invisible or reorder text (bidi overrides and isolates, marks, zero-width, controls):
// shown as a visible ⟦U+XXXX⟧ so a name cannot display as something other than what the code holds.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/gu;
const KINDS = {
  ordonnance: "Ordonnance numérique", apcv: "Carte Vitale (apCV)", amc: "Attestation mutuelle",
  ins: "INS — pas une ordonnance", gs1: "Boîte de médicament", "2ddoc": "2D-Doc", unknown: "Code non reconnu",
};
const COUNTED = {  // "2 ordonnances, 1 mutuelle" in an earlier patient's one-line summary
  apcv: ["carte Vitale", "cartes Vitale"], ins: ["INS", "INS"], ordonnance: ["ordonnance", "ordonnances"],
  amc: ["mutuelle", "mutuelles"], gs1: ["boîte", "boîtes"], "2ddoc": ["2D-Doc", "2D-Doc"], unknown: ["code non reconnu", "codes non reconnus"],
};
const ORDER = ["apcv", "ins", "ordonnance", "amc", "gs1", "2ddoc", "unknown"];  // on the current patient's panel
const EPU = {
  available: "disponible", dispensed: "déjà délivrée", partially_dispensed: "partiellement délivrée",
  cancelled: "annulée", expired: "expirée", unknown: "inconnue de l'ePU", unreachable: "ePU injoignable — nouvel essai automatique",
};
const STATUS = { ok: "OK", warning: "attention", invalid: "invalide" };
const OPENED = {
  pharmacist: "nouveau patient demandé", identity_change: "nouveau patient lu (identité différente)",
  timer: "après une pause", first_read: "",
};
// Bridge problems (GET api/health, "health" events), by code: what the pharmacist should know and do.
const PROBLEMS = {
  journal_unwritable: "Journal plein ou illisible : les lectures ne sont PAS enregistrées ; les lecteurs les gardent et les renvoient. Libérez de l'espace disque.",
  sink_failing: "Envoi au logiciel de la pharmacie en échec : les lectures sont gardées et seront envoyées dans l'ordre au retour.",
  epu_unreachable: "ePU injoignable : les ordonnances sont lues, l'état ePU sera vérifié automatiquement à son retour (ou traitez-les comme papier).",
  reader_wrong_mode: p => "Lecteur qui ne parle pas au service : " + p.message,
  reader_config: p => "Configuration du lecteur refusée en partie (il utilise les valeurs par défaut) : " + p.message,
};
const DEVICE_STATES = {  // [label, pill colour]
  connected: ["connecté", "on"], wrong_mode: ["mauvais mode", "warn"], silent: ["silencieux", "warn"],
  opening: ["ouverture…", "warn"], disconnected: ["déconnecté", "off"],
};
const SEVERITY = { error: 0, warning: 1, info: 2 };
// ePU answers that mean "do not dispense this e-prescription": shown in red, first
const STOP = new Set(["cancelled", "already_dispensed", "epu_unknown"]);

// Dates are kept as YYYY-MM-DD (or YYYYMMDD, YYMMDD on packs) in lookups; the counter reads them as JJ/MM/AAAA.
function frenchDate(text) {
  const s = String(text || "").replace(/-/g, "");
  let m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (m) return m[3] + "/" + m[2] + "/" + m[1];
  m = /^(\d{2})(\d{2})(\d{2})$/.exec(s);   // GS1 expiry YYMMDD; day 00 means the end of the month
  if (m) return (m[3] === "00" ? "" : m[3] + "/") + m[2] + "/20" + m[1];
  return text;
}

function isoOf(text) {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(String(text || ""));
  return m ? m[1] + "-" + m[2] + "-" + m[3] : null;
}

function today() {
  const d = new Date();
  return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
}

// Mutuelle rights as dates, and whether they cover today.
function validity(text) {
  const [from, to] = String(text || "").split("-");
  const a = isoOf(from), b = isoOf(to);
  if (!a || !b) return text ? { text: shown(text), state: "" } : null;
  const now = today();
  const state = now < a ? "pas encore valables" : now > b ? "expirés" : "valables aujourd'hui";
  return { text: "du " + frenchDate(a) + " au " + frenchDate(b), state };
}

function readerName(reader) {
  if (reader === "manual") return "saisie manuelle";
  const m = /^reader-(\d+)$/.exec(reader || "");
  return m ? "lecteur " + m[1] : reader;
}

function clock(time) {
  const d = new Date(time || "");
  return isNaN(d) ? "" : d.toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// The prescription number as printed under the QR: four groups of four.
function grouped(number) {
  return /^[0-9A-Z]{16}$/.test(number || "") ? number.match(/.{4}/g).join(" ") : number;
}

function personOf(f) {
  return [f.patient_family_name || f.beneficiary_family_name, f.patient_given_names || f.beneficiary_given_names].filter(Boolean).join(" ");
}

// The rows each kind shows: what matters at the counter for that code.
const ROWS = {
  ordonnance: [
    ["Patient", personOf], ["Né(e) le", f => frenchDate(f.patient_birth_date)],
    ["RPPS", f => f.prescriber_rpps], ["AM", f => f.prescriber_am],
  ],
  apcv: [["Bénéficiaire", personOf], ["Né(e) le", f => frenchDate(f.beneficiary_birth_date)]],
  ins: [["Patient", personOf], ["Né(e) le", f => frenchDate(f.patient_birth_date)], ["INS", f => f.ins_number]],
  amc: [
    ["AMC", f => f.amc_number], ["Adhérent", f => f.member_number],
    ["Convention", f => [f.convention_type, f.routing_criterion].filter(Boolean).join(" · ")],
  ],
  gs1: [
    ["CIP13", f => f.cip13 || (/^03400/.test(f.gtin || "") ? f.gtin.slice(1) : "")],
    ["GTIN", f => f.gtin && !f.cip13 && !/^03400/.test(f.gtin) ? f.gtin : ""],
    ["Péremption", f => frenchDate(f.expiry)], ["Lot", f => f.lot], ["N° de série", f => f.serial],
  ],
  "2ddoc": [["Personne", personOf]],
};

let cursor = "";
let socket = null;
const lookups = new Map();     // id -> lookup, in arrival order
const closed = new Set(JSON.parse(localStorage.getItem("electeur-closed-sessions") || "[]"));  // ended by "Nouveau patient"
const opened = new Set();      // earlier sessions the pharmacist unfolded
const $ = id => document.getElementById(id);

class NeedToken extends Error {
  constructor(where) { super("jeton requis"); this.where = where; }
}

function api(path, options = {}) {
  return fetch(path, Object.assign({ credentials: "same-origin" }, options)).then(async r => {
    const body = await r.json().catch(() => ({}));
    if (r.status === 401) throw new NeedToken(body.token_where);
    if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
    return body;
  });
}

function shown(value) {
  const chars = Array.from(String(value).replace(HIDDEN, c => "⟦U+" + c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0") + "⟧"));
  if (chars.length <= MAX_SHOWN) return chars.join("");
  return chars.slice(0, MAX_SHOWN).join("") + " … (" + chars.length + " caractères ; lecture complète dans le journal)";
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = shown(text);
  if (cls) node.className = cls;
  return node;
}

// The ePU line of a prescription: state, then which renewal it is and whether ePU has the dispensation yet.
function epuLine(epu) {
  const parts = [EPU[epu.state] || epu.state];
  const renewals = (epu.dispensations_allowed || 1) - 1;
  if (renewals > 0 && epu.state !== "dispensed") {
    parts.push(epu.renewal ? "renouvellement n° " + epu.renewal + " sur " + renewals : "1re délivrance, renouvelable " + renewals + " fois");
  }
  if (epu.transmission === "pending") parts.push("à transmettre (envoi à 12 h 30)");
  return parts.join(" · ");
}

// REFUS E-PRESCRIPTION: a reason is required; once recorded, a red banner says to dispense it as a paper one.
function refusal(lookup) {
  if (lookup.kind !== "ordonnance" || !lookup.epu || lookup.status === "invalid") return null;
  const refusable = lookup.epu.state === "available" || lookup.epu.state === "partially_dispensed";
  if (lookup.epu.refusal) {
    return el("p", "REFUS E-PRESCRIPTION enregistré : délivrez-la comme une ordonnance classique. Motif : " + lookup.epu.refusal.reason, "refusal-banner");
  }
  if (!refusable) return null;  // unknown to ePU, cancelled, dispensed, unreachable: nothing for ePU to record
  const box = document.createElement("details");
  box.className = "refusal";
  box.append(el("summary", "Refus e-prescription"));
  const form = document.createElement("form");
  const reason = el("input");
  reason.required = true; reason.maxLength = 500; reason.placeholder = "Motif du refus (obligatoire)";
  const error = el("p", "", "error");
  form.append(reason, el("button", "Valider le refus"), error);
  form.addEventListener("submit", async e => {
    e.preventDefault();
    try {
      addLookup(await api("api/lookups/" + encodeURIComponent(lookup.id) + "/refusal", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ reason: reason.value }),
      }));
    } catch (err) { error.textContent = shown(err.message); }
  });
  box.append(form);
  return box;
}

function card(lookup, inCurrent) {
  const node = $("card").content.firstElementChild.cloneNode(true);
  node.dataset.id = lookup.id;
  node.classList.add("kind-" + lookup.kind, "status-" + lookup.status);
  node.querySelector(".kind").textContent = KINDS[lookup.kind] || shown(lookup.kind);
  node.querySelector(".status").textContent = STATUS[lookup.status] || shown(lookup.status);
  const src = lookup.source || {};
  node.querySelector("time").textContent = shown([readerName(src.reader), clock(src.time)].filter(Boolean).join(" · "));
  const line = node.querySelector(".state-line");
  if (lookup.epu) {  // the prescription's ePU state line (a cancelled or dispensed one in red)
    line.hidden = false;
    const said = shown(epuLine(lookup.epu));  // state, renewal, transmission
    line.textContent = said.startsWith("ePU") ? said : "ePU : " + said;
    line.classList.add("epu-line", "epu-" + lookup.epu.state);
    node.classList.add("epu-" + lookup.epu.state);
  }
  if (lookup.fields && lookup.fields.prescription_number) {  // as printed under the QR, to compare with the paper
    const number = node.querySelector(".number");
    number.hidden = false;
    number.textContent = "N° " + shown(grouped(lookup.fields.prescription_number));
  }
  const rights = lookup.kind === "amc" && validity((lookup.fields || {}).validity);
  if (rights) {      // the mutuelle's rights as dates, and whether they cover today
    line.hidden = false;
    line.textContent = ["Droits " + (rights.state || ""), rights.text].filter(Boolean).join(" : ");
    line.classList.add("rights", rights.state === "valables aujourd'hui" ? "rights-ok" : "rights-bad");
  }
  // what to do: the action for the codes of this counter (the prescription's once ePU has not answered), else why not
  const action = lookup.kind === "ordonnance" ? !lookup.epu && lookup.action && lookup.action.label :
    lookup.kind === "apcv" || lookup.kind === "amc" ? lookup.action && lookup.action.label : lookup.action && lookup.action.reason;
  node.querySelector(".action").textContent = shown(action || "");
  const dl = node.querySelector("dl");
  const fields = lookup.fields || {};
  for (const [label, pick, cls] of ROWS[lookup.kind] || []) {
    const value = pick(fields);
    if (value) dl.append(el("dt", label), el("dd", value, cls));
  }
  if (lookup.status === "invalid" && lookup.text) dl.append(el("dt", "Contenu lu"), el("dd", lookup.text, "raw"));
  const refuse = refusal(lookup);  // REFUS E-PRESCRIPTION: the form, or the red banner once recorded
  if (refuse) node.querySelector(".actions").append(refuse);
  if (!inCurrent) {  // the current patient's warnings are listed first, above the cards
    const list = node.querySelector(".warnings");
    for (const w of warningsOf(lookup)) list.append(el("li", w.message, "sev-" + severity(w)));
  }
  return node;
}

function severity(w) { return STOP.has(w.code) ? "error" : w.severity; }

function warningsOf(lookup) {
  const list = (lookup.warnings || []).slice();
  if (lookup.kind === "ins" && !list.some(w => w.code === "not_a_prescription")) {
    list.push({ severity: "warning", message: "Code INS présenté : demandez le QR de l'ordonnance (avec le code imprimé dessous)." });
  }
  return list;
}

// Sessions, newest first: [{id, lookups (oldest first), openedBy}]
function sessions() {
  const byId = new Map();
  let last = null;
  for (const lk of lookups.values()) {
    // a lookup without a session (a tool's API) joins the one before it
    const id = (lk.session && lk.session.id) || (last !== null && !closed.has(last) ? last : "sans-session-" + lk.id);
    if (!byId.has(id)) byId.set(id, { id, lookups: [], openedBy: lk.session && lk.session.opened_by });
    byId.get(id).lookups.push(lk);
    last = id;
  }
  return [...byId.values()].reverse();
}

function identity(session) {
  const pick = kind => session.lookups.filter(l => l.kind === kind && personOf(l.fields || {})).pop();
  const who = pick("apcv") || pick("ins") || pick("ordonnance");
  if (!who) return null;
  const f = who.fields;
  const birth = frenchDate(f.beneficiary_birth_date || f.patient_birth_date);
  const from = { apcv: "carte Vitale (apCV)", ins: "INS", ordonnance: "d'après l'ordonnance" }[who.kind];
  return { name: personOf(f), birth, from, ins: f.ins_number };
}

function summary(session) {
  const counts = {};
  for (const l of session.lookups) counts[l.kind] = (counts[l.kind] || 0) + 1;
  const parts = ORDER.filter(k => counts[k]).map(k => counts[k] + " " + (COUNTED[k] || [k, k])[counts[k] > 1 ? 1 : 0]);
  const alerts = session.lookups.reduce((n, l) => n + warningsOf(l).length, 0);
  const who = identity(session);
  const first = session.lookups[0].source || {};
  return [clock(first.time), who ? who.name : "patient non identifié", parts.join(", "),
          alerts ? alerts + (alerts > 1 ? " alertes" : " alerte") : ""].filter(Boolean).join(" · ");
}

function render() {
  const all = sessions();
  let current = all[0];
  if (current && closed.has(current.id)) current = null;
  const earlier = all.filter(s => s !== current).slice(0, MAX_EARLIER);

  const cards = $("current-cards"), warnings = $("current-warnings"), patient = $("patient");
  cards.replaceChildren(); warnings.replaceChildren(); patient.replaceChildren();
  $("empty").hidden = !!current;
  $("current-since").textContent = "";
  if (current) {
    const first = current.lookups[0].source || {};
    $("current-since").textContent = shown(["depuis " + clock(first.time), OPENED[current.openedBy] || ""].filter(Boolean).join(" · "));
    const who = identity(current);
    if (who) {
      patient.append(el("span", who.name, "name"));
      const facts = el("span", null, "facts");
      facts.textContent = shown([who.birth && "né(e) le " + who.birth, who.ins && "INS " + who.ins, who.from].filter(Boolean).join(" · "));
      patient.append(facts);
    } else {
      patient.append(el("span", "Patient non identifié : scannez sa carte Vitale (apCV)", "name unknown"));
    }
    const all = current.lookups.flatMap(l => warningsOf(l).map(w => Object.assign({ kind: l.kind }, w)));
    all.sort((a, b) => (SEVERITY[severity(a)] ?? 3) - (SEVERITY[severity(b)] ?? 3));
    for (const w of all) {
      const li = el("li", null, "sev-" + severity(w));
      li.append(el("strong", (KINDS[w.kind] || w.kind) + " : "), document.createTextNode(shown(w.message)));
      warnings.append(li);
    }
    const ordered = current.lookups.slice().sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
    for (const l of ordered) cards.append(card(l, true));
  }

  const list = $("earlier-list");
  list.replaceChildren();
  for (const s of earlier) {
    const box = el("details", null, "session earlier");
    box.dataset.session = s.id;
    box.open = opened.has(s.id);
    box.addEventListener("toggle", () => { if (box.open) opened.add(s.id); else opened.delete(s.id); });
    const head = el("summary", summary(s));
    if (s.lookups.some(l => warningsOf(l).length)) head.classList.add("has-warnings");
    box.append(head);
    const items = el("div", null, "items");
    for (const l of s.lookups.slice().reverse()) items.append(card(l, false));
    box.append(items);
    list.append(box);
  }
  $("earlier").hidden = !earlier.length;
}

function addLookup(lookup) {
  const known = lookups.has(lookup.id);
  if (known && !lookup.revision) return;   // a repeat; a revision (ePU answered later) replaces it
  lookups.set(lookup.id, lookup);
  while (lookups.size > MAX_LOOKUPS) lookups.delete(lookups.keys().next().value);
  render();
}

function newPatient() {
  for (const s of sessions()) closed.add(s.id);
  // kept across a reload of the page (session ids are opaque hashes, no health data)
  localStorage.setItem("electeur-closed-sessions", JSON.stringify([...closed].slice(-MAX_LOOKUPS)));
  render();
}

function showDevices(devices) {
  const list = $("readers");
  list.replaceChildren();
  if (!devices.length) list.append(el("li", "aucun lecteur", "muted"));
  const summaryParts = [];
  for (const d of devices) {
    const names = (d.readers || []).map(r => r.name || ("lecteur " + r.id)).join(", ");
    const [state, colour] = DEVICE_STATES[d.state] || DEVICE_STATES.disconnected;
    const li = el("li", null, "reader state-" + d.state);
    li.append(el("span", state, "pill " + colour));
    li.append(el("span", " " + (names || "lecteur (pas encore identifié)")));
    li.append(el("small", d.device + " · " + d.reads + " lectures" + (d.error ? " · " + d.error : "")));
    list.append(li);
    summaryParts.push((names || d.device) + " : " + state);
  }
  $("reader-summary").textContent = shown(summaryParts.join(" · "));
}

function showProblems(problems) {
  const list = $("problems");
  const text = p => typeof PROBLEMS[p.code] === "function" ? PROBLEMS[p.code](p) : PROBLEMS[p.code] || p.message;
  list.replaceChildren(...problems.map(p => el("li", text(p), "problem problem-" + p.code)));
  list.hidden = !problems.length;
}

let devices = new Map();
function deviceEvent(d) {
  if (d.state === "gone") devices.delete(d.device); else devices.set(d.device, d);
  showDevices([...devices.values()]);
}

function setLink(text, cls) { $("link").textContent = text; $("link").className = "pill " + cls; }

function needToken(where) {
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  setLink("jeton requis", "warn");
  $("token-where").textContent = where ? shown("Le jeton est dans : " + where + ".") : "";
  $("login").hidden = false;
}

async function catchUp() {
  const page = cursor ? await api("api/lookups?after=" + encodeURIComponent(cursor)) : await api("api/lookups?last=" + MAX_LOOKUPS);
  page.lookups.forEach(addLookup);
  cursor = page.next;
}

function connect() {
  const url = new URL("api/events", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(url);  // same origin: the browser sends the token cookie
  socket.onopen = () => { setLink("en ligne", "on"); catchUp().catch(() => {}); };
  socket.onmessage = msg => {
    const event = JSON.parse(msg.data);
    if (event.type === "lookup") { addLookup(event.lookup); cursor = event.cursor; }
    else if (event.type === "device") deviceEvent(event.device);
    else if (event.type === "health") showProblems(event.problems);
    else if (event.type === "session") newPatient();
    else if (event.type === "hello") { devices = new Map(); event.devices.forEach(deviceEvent); showProblems(event.problems || []); }
  };
  socket.onclose = () => { setLink("hors ligne", "off"); setTimeout(reconnect, 2000); };
}

async function reconnect() {
  try {
    await api("api/health");   // the bridge is back: is our token still the one it wants?
    connect();
  } catch (err) {
    if (err instanceof NeedToken) needToken(err.where); else setTimeout(reconnect, 2000);
  }
}

async function login(token) {
  const r = await fetch("open", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
                                  body: JSON.stringify({ token }) });
  if (r.status === 401) throw new NeedToken((await r.json().catch(() => ({}))).token_where);
  if (!r.ok) throw new Error("HTTP " + r.status);
}

async function start() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    history.replaceState(null, "", location.pathname);  // keep the token out of the address bar
    await login(hash.get("token"));
  }
  showDevices((await api("api/devices")).devices);
  showProblems((await api("api/health")).problems || []);
  $("login").hidden = true;
  await catchUp();
  connect();
}

function failed(err) {
  if (err instanceof NeedToken) needToken(err.where);
  else { setLink("hors ligne", "off"); setTimeout(() => start().catch(failed), 2000); }
}

$("login-form").addEventListener("submit", e => {
  e.preventDefault();
  $("login-error").textContent = "";
  login($("token").value.trim()).then(start).then(() => { $("token").value = ""; }).catch(err => {
    $("login-error").textContent = err instanceof NeedToken ? "Jeton refusé." : shown(err.message);
  });
});

async function askNewPatient() {
  newPatient();
  try { await api("api/sessions/new", { method: "POST" }); } catch (err) { if (err instanceof NeedToken) needToken(err.where); }
}
$("new-patient").addEventListener("click", askNewPatient);
document.addEventListener("keydown", e => {
  if (e.key === "F2" && !e.repeat) { e.preventDefault(); askNewPatient(); }
});

$("manual").addEventListener("submit", async e => {
  e.preventDefault();
  $("manual-error").textContent = "";
  try {
    addLookup(await api("api/lookups/manual", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code: $("code").value }),
    }));
    $("code").value = "";
  } catch (err) {
    if (err instanceof NeedToken) needToken(err.where); else $("manual-error").textContent = shown(err.message);
  }
});

render();
start().catch(failed);
