// Counter page: live reads from the bridge. Payload data is only ever set with textContent.
"use strict";

const MAX_CARDS = 20;
const MAX_SHOWN = 160;  // characters of one value on a card; the full read stays in the journal and the API
// Characters that are invisible or reorder text (bidi overrides and isolates, marks, zero-width, controls):
// shown as a visible ⟦U+XXXX⟧ so a name cannot display as something other than what the code holds.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/gu;
const KINDS = {
  ordonnance: "Ordonnance numérique", apcv: "apCV (carte Vitale)", amc: "Attestation mutuelle",
  ins: "INS — pas une ordonnance", gs1: "Boîte de médicament (GS1)", "2ddoc": "2D-Doc", unknown: "Code non reconnu",
};
const EPU = {
  available: "disponible", dispensed: "déjà délivrée", partially_dispensed: "partiellement délivrée",
  cancelled: "annulée", expired: "expirée", unknown: "inconnue de l'ePU", unreachable: "ePU injoignable — nouvel essai automatique",
};
// Bridge problems (GET api/health, "health" events), by code: what the pharmacist should know and do.
const PROBLEMS = {
  journal_unwritable: "Journal plein ou illisible : les lectures ne sont PAS enregistrées ; les lecteurs les gardent et les renvoient. Libérez de l'espace disque.",
  sink_failing: "Envoi au logiciel de la pharmacie en échec : les lectures sont gardées et seront envoyées dans l'ordre au retour.",
  epu_unreachable: "ePU injoignable : les ordonnances sont lues, l'état ePU sera vérifié automatiquement à son retour (ou traitez-les comme papier).",
};
const ROWS = [
  ["Patient", f => [f.patient_family_name || f.beneficiary_family_name, f.patient_given_names || f.beneficiary_given_names].filter(Boolean).join(" ")],
  ["Né(e) le", f => frenchDate(f.patient_birth_date || f.beneficiary_birth_date)],
  ["Prescripteur", f => [f.prescriber_rpps && "RPPS " + f.prescriber_rpps, f.prescriber_am && "AM " + f.prescriber_am].filter(Boolean).join(" · ")],
  ["N° d'ordonnance", f => f.prescription_number],
  ["Mutuelle", f => f.amc_number && [f.amc_number, f.validity].filter(Boolean).join(" · ")],
  ["INS", f => f.ins_number],
];

// Dates are kept as YYYY-MM-DD in lookups; the counter reads them as JJ/MM/AAAA.
function frenchDate(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return m ? m[3] + "/" + m[2] + "/" + m[1] : iso;
}

let token = "";
let cursor = "";
let socket = null;
const seen = new Set();
const $ = id => document.getElementById(id);

function api(path, options = {}) {
  const headers = Object.assign({ Authorization: "Bearer " + token }, options.headers || {});
  return fetch(path, Object.assign({}, options, { headers })).then(async r => {
    if (r.status === 401) { showLogin(); throw new Error("jeton refusé"); }
    const body = await r.json().catch(() => ({}));
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

function card(lookup) {
  const node = $("card").content.firstElementChild.cloneNode(true);
  node.dataset.id = lookup.id;
  node.classList.add("kind-" + lookup.kind, "status-" + lookup.status);
  node.querySelector(".kind").textContent = KINDS[lookup.kind] || shown(lookup.kind);
  node.querySelector(".status").textContent = { ok: "OK", warning: "attention", invalid: "invalide" }[lookup.status] || shown(lookup.status);
  const src = lookup.source || {};
  node.querySelector("time").textContent = shown([src.reader, (src.time || "").slice(11, 19)].filter(Boolean).join(" · "));
  node.querySelector(".action").textContent = shown((lookup.action && lookup.action.label) || "");
  const dl = node.querySelector("dl");
  const fields = lookup.fields || {};
  for (const [label, pick] of ROWS) {
    const value = pick(fields);
    if (value) { dl.append(el("dt", label), el("dd", value)); }
  }
  if (lookup.status === "invalid" && lookup.text) dl.append(el("dt", "Contenu lu"), el("dd", lookup.text, "raw"));
  if (lookup.epu) {
    dl.append(el("dt", "ePU"), el("dd", epuLine(lookup.epu), "epu-" + lookup.epu.state));
  }
  const warnings = node.querySelector(".warnings");
  for (const w of lookup.warnings || []) {
    warnings.append(el("li", w.message, "sev-" + w.severity));
  }
  if (lookup.kind === "ins") warnings.append(el("li", "Code INS présenté : demandez le QR de l'ordonnance (avec le code imprimé dessous).", "sev-warning"));
  const refuse = refusal(lookup);
  if (refuse) node.append(refuse);
  return node;
}

function addLookup(lookup) {
  const shown = document.querySelector(`.card[data-id="${CSS.escape(lookup.id)}"]`);
  if (seen.has(lookup.id)) {
    if (shown && lookup.revision) shown.replaceWith(card(lookup));  // completed later (ePU answered)
    return;
  }
  seen.add(lookup.id);
  const empty = $("empty");
  if (empty) empty.remove();
  const cards = $("cards");
  cards.prepend(card(lookup));
  while (cards.children.length > MAX_CARDS) cards.lastElementChild.remove();
}

function showDevices(devices) {
  const list = $("readers");
  list.replaceChildren();
  if (!devices.length) list.append(el("li", "aucun lecteur", "muted"));
  for (const d of devices) {
    const names = (d.readers || []).map(r => r.name || ("lecteur " + r.id)).join(", ");
    const li = el("li", null, "reader state-" + d.state);
    li.append(el("span", d.state === "connected" ? "connecté" : "déconnecté", "pill " + (d.state === "connected" ? "on" : "off")));
    li.append(el("span", " " + (names || d.device)));
    li.append(el("small", " " + d.device + " · " + d.reads + " lectures" + (d.error ? " · " + d.error : "")));
    list.append(li);
  }
}

function showProblems(problems) {
  const list = $("problems");
  list.replaceChildren(...problems.map(p => el("li", PROBLEMS[p.code] || p.message, "problem problem-" + p.code)));
  list.hidden = !problems.length;
}

let devices = new Map();
function deviceEvent(d) {
  if (d.state === "gone") devices.delete(d.device); else devices.set(d.device, d);
  showDevices([...devices.values()]);
}

async function catchUp() {
  const page = cursor ? await api("api/lookups?after=" + encodeURIComponent(cursor)) : await api("api/lookups?last=" + MAX_CARDS);
  page.lookups.forEach(addLookup);
  cursor = page.next;
}

function connect() {
  const url = new URL("api/events", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(url, ["bearer." + token]);
  socket.onopen = () => { $("link").textContent = "en ligne"; $("link").className = "pill on"; catchUp().catch(() => {}); };
  socket.onmessage = msg => {
    const event = JSON.parse(msg.data);
    if (event.type === "lookup") { addLookup(event.lookup); cursor = event.cursor; }
    else if (event.type === "device") deviceEvent(event.device);
    else if (event.type === "health") showProblems(event.problems);
    else if (event.type === "hello") { devices = new Map(); event.devices.forEach(deviceEvent); showProblems(event.problems || []); }
  };
  socket.onclose = () => {
    $("link").textContent = "hors ligne"; $("link").className = "pill off";
    setTimeout(connect, 2000);
  };
}

function showLogin() { $("login").hidden = false; }

async function start() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    sessionStorage.setItem("electeur-token", hash.get("token"));
    history.replaceState(null, "", location.pathname);  // keep the token out of the address bar
  }
  token = sessionStorage.getItem("electeur-token") || "";
  if (!token) { showLogin(); return; }
  $("login").hidden = true;
  showDevices((await api("api/devices")).devices);
  showProblems((await api("api/health")).problems || []);
  await catchUp();
  connect();
}

$("login").addEventListener("submit", e => {
  e.preventDefault();
  sessionStorage.setItem("electeur-token", $("token").value.trim());
  start().catch(err => { $("manual-error").textContent = shown(err.message); });
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
    $("manual-error").textContent = shown(err.message);
  }
});

start().catch(err => { $("manual-error").textContent = shown(err.message); });
