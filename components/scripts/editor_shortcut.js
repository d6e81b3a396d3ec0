
if (!window.__studioCtrlEnter) {
  window.__studioCtrlEnter = true;
  const doc = window.parent ? window.parent.document : document;
  doc.addEventListener("keydown", (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.key !== "Enter" || !e.target.closest(".st-key-prompt")) return;
    const started = Date.now();
    const tryClick = () => {
      const idle = doc.querySelector("[data-testid='stApp'][data-test-script-state='notRunning']");
      const button = doc.querySelector(".st-key-submit button");
      if (idle && button && !button.disabled && Date.now() - started > 300) { button.click(); return; }
      if (Date.now() - started < 5000) setTimeout(tryClick, 100);
    };
    setTimeout(tryClick, 100);
  }, true);
}
