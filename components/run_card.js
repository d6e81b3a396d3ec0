// The gallery's cards, drawn from plain data (lib/cards.py): one element per run, marked
// data-run-id, with text set through textContent only (prompts and server text are
// untrusted). A card is redrawn only when its data changed. Run notices that carry a
// card patch it in place (or add a new run on top); with filters on, or for a notice the
// page cannot place, the fragment is asked to rerun instead ("changed"), once per burst
// (live.js comes first: HUB and BURST_MS).
const TOAST_MS = 8000;
const TOASTS_SHOWN = 3;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

// Formatters are made once: toLocaleString with options builds a new one on every call,
// which cost more than the rest of a card put together.
const TIME = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" });
const DAY_TIME = new Intl.DateTimeFormat([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

function localTime(seconds) {
  const d = new Date(seconds * 1000);
  const now = new Date();
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return (sameDay ? TIME : DAY_TIME).format(d);
}

function statusLine(card, words) {
  let text = `${card.label} · ${card.progress}%`;
  if (card.eta_at) {
    const left = Math.round(card.eta_at - Date.now() / 1000);
    text += " · " + (left > 0 ? words.left.replace("{s}", String(left)) : words.soon);
  }
  return text;
}

function draw(card, st) {
  const words = st.data.words;
  const root = el("div", `sp-card sp-state-${card.state}`);
  root.dataset.runId = card.id;
  root.dataset.status = card.status;
  if (card.video) {
    // The poster until someone plays: a click anywhere on it (or the play button, by keyboard)
    // starts the video, and only then come the browser's own controls. No bytes before that.
    const box = el("div", "sp-media");
    const v = el("video", "sp-video");
    v.preload = "none";
    v.playsInline = true;
    v.poster = card.video.poster;
    v.src = card.video.src;
    v.style.aspectRatio = `${card.video.width} / ${card.video.height}`;
    const play = el("button", "sp-play", "▶");
    play.type = "button";
    play.title = words.play;
    play.setAttribute("aria-label", words.play);
    const start = () => {
      v.controls = true;
      play.remove();
      v.play().catch(() => {}); // refused or failed: the controls are there to try again
    };
    play.onclick = start;
    v.addEventListener("click", () => v.controls || start());
    v.addEventListener("play", () => {
      v.controls = true;
      play.remove();
    });
    box.append(v, play);
    root.append(box);
  } else if (card.state === "live") {
    const bar = el("div", "sp-progress");
    const fill = el("div", "sp-fill");
    fill.style.width = `${card.progress}%`;
    bar.append(fill);
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-valuenow", String(card.progress));
    root.append(bar, el("div", "sp-status", statusLine(card, words)));
  } else if (card.error) {
    const head = el("div", "sp-error");
    head.append(el("strong", null, card.label), document.createTextNode(` · ${card.error.code}`));
    root.append(head);
    if (card.error.message) root.append(el("div", "sp-message", card.error.message));
    if (card.error.advice) root.append(el("div", "sp-advice", card.error.advice));
  }
  if (card.note) root.append(el("div", "sp-note", card.note));
  root.append(el("p", "sp-prompt", card.prompt));
  const badges = el("div", "sp-badges");
  for (const [tone, text] of card.badges) badges.append(el("span", `sp-badge sp-${tone}`, text));
  root.append(badges);
  root.append(el("div", "sp-facts", [`${words.made} ${localTime(card.made_at)}`, ...card.facts].join(" · ")));
  const actions = el("div", "sp-actions");
  if (card.state !== "live") {
    const stars = el("span", "sp-stars");
    for (let i = 1; i <= 5; i++) {
      const b = el("button", "sp-star" + ((card.rating || 0) >= i ? " sp-on" : ""), "★");
      b.type = "button";
      b.title = words.rate.replace("{n}", String(i));
      b.setAttribute("aria-label", b.title);
      b.onclick = () => st.trigger("rate", { run: card.id, stars: card.rating === i ? null : i });
      stars.append(b);
    }
    actions.append(stars);
  }
  const details = el("button", "sp-details", words.details);
  details.type = "button";
  details.onclick = () => st.trigger("open", card.id);
  actions.append(details);
  root.append(actions);
  return root;
}

// Put one card in place: redrawn only if its data changed (and never back to older data).
function place(st, card, before) {
  const sig = JSON.stringify(card);
  const old = st.cards.get(card.id);
  let node = old && old.node;
  if (!old || (old.sig !== sig && (card.version || 0) >= (old.version || 0))) {
    const fresh = draw(card, st);
    if (node) node.replaceWith(fresh);
    if (before === node) before = fresh;
    node = fresh;
    st.cards.set(card.id, { node, sig, version: card.version || 0, card });
  }
  if (before !== undefined && node !== before) st.grid.insertBefore(node, before);
  return node;
}

function sync(st) {
  if (!st.cards.size && !st.added.size) {
    // The first draw: every card built off the page, then put in at once.
    // (place() with no position draws and records a card without inserting it.)
    const all = document.createDocumentFragment();
    for (const card of st.data.cards) all.append(place(st, card));
    st.grid.append(all);
    st.empty.hidden = st.cards.size > 0;
    return;
  }
  const wanted = new Set(st.data.cards.map((c) => c.id));
  for (const [id, entry] of st.cards) {
    // A run added by a notice after the page read its list stays until the list has it.
    if (!wanted.has(id) && !st.added.has(id)) {
      entry.node.remove();
      st.cards.delete(id);
    }
  }
  let before = st.grid.firstChild;
  for (const id of st.added) if (wanted.has(id)) st.added.delete(id);
  // Runs added by notices stay on top (they are the newest).
  while (before && st.added.has(before.dataset.runId)) before = before.nextSibling;
  for (const card of st.data.cards) {
    const node = place(st, card, before);
    before = node.nextSibling;
  }
  st.empty.hidden = st.cards.size > 0;
}

function toast(st, text) {
  const t = el("div", "sp-toast", text);
  t.setAttribute("role", "status");
  st.toasts.append(t);
  while (st.toasts.childElementCount > TOASTS_SHOWN) st.toasts.firstChild.remove();
  setTimeout(() => t.remove(), TOAST_MS);
}

function ask(st, notice) {
  st.asked = notice;
  clearTimeout(st.askTimer);
  st.askTimer = setTimeout(() => st.trigger("changed", { kind: st.asked.kind, seq: st.asked.seq }), BURST_MS);
}

function hear(st, notice) {
  const card = notice.card;
  if (notice.kind === "finished" && card && card.toast) toast(st, card.toast);
  if (!card || !st.data.patch) return ask(st, notice);
  if (st.cards.has(card.id)) {
    place(st, card);
  } else {
    // A run this page has not seen: in the plain view every run of the workspace is on the
    // page, so it is a new one (made here, or first heard of at its first update when another
    // process made it). It goes where its time puts it, newest first.
    st.added.add(card.id);
    let before = st.grid.firstChild;
    while (before && (st.cards.get(before.dataset.runId)?.card.made_at ?? 0) > card.made_at) before = before.nextSibling;
    place(st, card, before || null);
    st.empty.hidden = true;
  }
  tick(st);
}

// The "about N s left" of running cards counts down here, without asking the server.
function tick(st) {
  const running = [...st.cards.values()].some((e) => e.card.state === "live" && e.card.eta_at);
  if (running && !st.ticker) {
    st.ticker = setInterval(() => {
      let any = false;
      for (const e of st.cards.values()) {
        if (e.card.state !== "live") continue;
        const line = e.node.querySelector(".sp-status");
        if (line) line.textContent = statusLine(e.card, st.data.words);
        any = any || !!e.card.eta_at;
      }
      if (!any) {
        clearInterval(st.ticker);
        st.ticker = null;
      }
    }, 1000);
  }
}

export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  // Streamlit calls this again with new data without cleaning up: keep one state per element.
  let st = parentElement.__studioCards;
  if (!st) {
    st = parentElement.__studioCards = { cards: new Map(), added: new Set() };
    st.grid = el("div", "sp-grid");
    st.empty = el("div", "sp-empty");
    st.toasts = el("div", "sp-toasts");
    st.toasts.setAttribute("aria-live", "polite");
    parentElement.append(st.grid, st.empty, st.toasts);
  }
  st.data = data;
  st.trigger = setTriggerValue;
  st.empty.textContent = data.empty || "";
  sync(st);
  tick(st);
  if (st.url !== data.url) {
    if (st.leave) st.leave();
    st.url = data.url;
    st.leave = data.url ? HUB.join(data.url, (n) => hear(st, n), data.since) : null;
  }
  return () => {
    clearInterval(st.ticker);
    clearTimeout(st.askTimer);
    if (st.leave) st.leave();
    delete parentElement.__studioCards;
  };
}
