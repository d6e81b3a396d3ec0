
const vids = Array.from(document.querySelectorAll('video'));
const btn = document.getElementById('play'), seek = document.getElementById('seek');
const clock = document.getElementById('clock'), sound = document.getElementById('sound');
const words = document.getElementById('controls').dataset;  // Play, Pause and seconds in the page's language
let lead = vids[0], dragging = false;
const dur = () => Math.max(0, ...vids.map(v => isFinite(v.duration) ? v.duration : 0));
const ref = () => (lead && !lead.ended) ? lead : vids.reduce((a, v) => v.currentTime > a.currentTime ? v : a, vids[0]);
const playing = () => vids.some(v => !v.paused && !v.ended);
function align(t) {
  vids.forEach(v => { const d = isFinite(v.duration) ? v.duration : t; v.currentTime = Math.min(t, d); });
}
function setSound(i) { vids.forEach((v, k) => { v.muted = k !== i; }); lead = vids[i]; }
async function playAll() {
  if (vids.every(v => v.ended)) align(0); else align(ref().currentTime);
  const start = v => v.play().catch(() => { v.muted = true; return v.play().catch(() => {}); });
  await Promise.all(vids.map(start));
  render();
}
function pauseAll() { vids.forEach(v => v.pause()); align(ref().currentTime); render(); }
function render() {
  btn.textContent = playing() ? '\u275A\u275A ' + words.pause : '\u25B6 ' + words.play;
  const t = ref() ? ref().currentTime : 0, d = dur();
  if (!dragging && d) seek.value = Math.round(1000 * t / d);
  clock.textContent = t.toFixed(1) + ' / ' + d.toFixed(1) + ' ' + words.s;
}
btn.addEventListener('click', () => playing() ? pauseAll() : playAll());
seek.addEventListener('input', () => { dragging = true; align(seek.value / 1000 * dur()); render(); });
seek.addEventListener('change', () => { dragging = false; });
sound.addEventListener('change', () => setSound(Number(sound.value)));
vids.forEach(v => {
  ['play', 'pause', 'ended', 'loadedmetadata', 'timeupdate'].forEach(e => v.addEventListener(e, render));
});
setInterval(() => {
  if (!playing()) return;
  const r = ref(), t = r.currentTime;
  vids.forEach(v => {
    if (v !== r && !v.ended && !v.paused && t < v.duration && Math.abs(v.currentTime - t) > 0.15) v.currentTime = t;
  });
}, 250);
if (vids.length) setSound(0);
render();
