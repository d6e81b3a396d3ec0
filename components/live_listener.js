// A listener instance: told (data) which runs and kinds its fragment cares about, it sets
// its trigger only for a matching notice, so only that fragment reruns. Notices that come
// together (a burst, BURST_MS in live.js) wake the fragment once. A "resync" always matches.

export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  // Streamlit calls this again with new data without cleaning up: keep one state per element.
  const state = parentElement.__studioListener || (parentElement.__studioListener = {});
  state.data = data;
  state.trigger = setTriggerValue;
  const matches = (n) => {
    const d = state.data;
    if (n.kind === "resync") return true;
    if (d.kinds && !d.kinds.includes(n.kind)) return false;
    return !d.runs || d.runs.includes(n.run);
  };
  if (state.url !== data.url) {
    if (state.leave) state.leave();
    state.url = data.url;
    state.leave = HUB.join(data.url, (n) => {
      if (!matches(n)) return;
      state.last = n;
      clearTimeout(state.timer);
      state.timer = setTimeout(() => state.trigger("notice", { run: state.last.run, kind: state.last.kind, seq: state.last.seq }), BURST_MS);
    }, data.since);
  }
  return () => {
    clearTimeout(state.timer);
    if (state.leave) state.leave();
    delete parentElement.__studioListener;
  };
}
