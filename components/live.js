// One EventSource per browser page for each workspace's run notices, kept on window and
// shared by every component that listens (the listener below and the gallery's cards).
// A component joins with a callback and gets back a function that leaves; the stream is
// closed a little after its last listener left (a page switch remounts components).
// After a lost stream reconnects, listeners hear a "resync": notices may have been missed.
// The stream outlives a page switch, so notices go by while no card listens: a component
// that joins says which notice its page had heard of when it read the store ("since", the
// server's seq) and first hears the kept notices that came after it.
// Notices this close together are a burst: whoever listens acts once, after the last of them.
const BURST_MS = 150;
const HUB = (() => {
  if (window.__studioLive) return window.__studioLive;
  const GRACE_MS = 10000;
  const KEPT = 256;
  const sources = new Map();
  const hub = {
    join(url, listener, since) {
      let s = sources.get(url);
      if (!s) {
        s = { listeners: new Set(), opens: 0, closer: null, recent: [], es: new EventSource(url) };
        s.es.addEventListener("run", (event) => {
          let notice;
          try {
            notice = JSON.parse(event.data);
          } catch {
            return;
          }
          if (notice.seq > 0) {
            s.recent.push(notice);
            if (s.recent.length > KEPT) s.recent.shift();
          }
          for (const l of [...s.listeners]) l(notice);
        });
        s.es.addEventListener("open", () => {
          s.opens += 1;
          if (s.opens > 1) s.recent = []; // the server may have restarted: its seqs start again
          if (s.opens > 1) for (const l of [...s.listeners]) l({ run: "", kind: "resync", seq: 0 });
        });
        sources.set(url, s);
      }
      clearTimeout(s.closer);
      s.listeners.add(listener);
      if (typeof since === "number") for (const n of s.recent) if (n.seq > since) listener(n);
      return () => {
        s.listeners.delete(listener);
        if (s.listeners.size) return;
        s.closer = setTimeout(() => {
          if (s.listeners.size) return;
          s.es.close();
          sources.delete(url);
        }, GRACE_MS);
      };
    },
    streams: () => sources.size,
  };
  window.__studioLive = hub;
  return hub;
})();
