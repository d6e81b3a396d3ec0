
if (!window.__studioCtrlEnter) {
  window.__studioCtrlEnter = true;
  const doc = window.parent ? window.parent.document : document;
  const SETTLE_MS = 1500; // no script run by then: the text had not changed, nothing to wait for
  const GIVE_UP_MS = 60000; // a slow machine may take seconds to rerun; give up only after this
  doc.addEventListener("keydown", (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.key !== "Enter" || !e.target.closest(".st-key-prompt")) return;
    const app = doc.querySelector("[data-testid='stApp']");
    const started = Date.now();
    let ran = false; // the run that takes the new text has begun (seen even if it ends within one frame)
    const watch = new MutationObserver(() => { ran = true; });
    if (app) watch.observe(app, { attributes: true, attributeFilter: ["data-test-script-state"] });
    const tryClick = () => {
      const idle = app && app.getAttribute("data-test-script-state") === "notRunning";
      const button = doc.querySelector(".st-key-submit button");
      const settled = ran || Date.now() - started > SETTLE_MS;
      if (idle && settled && button && !button.disabled && Date.now() - started > 300) {
        watch.disconnect();
        button.click();
        return;
      }
      if (Date.now() - started < GIVE_UP_MS) setTimeout(tryClick, 100);
      else watch.disconnect();
    };
    setTimeout(tryClick, 100);
  }, true);
}
