// The sidebar's links (components/workspace.py): a click on a link's copy button puts the
// text of its code element on the clipboard. One listener for the whole page, however many links
// and reruns there are. Where the Clipboard API is missing (plain http on another host),
// a selected, hidden text area and the older copy command do it.
// Never write a less-than sign followed by a letter or a slash in this file: st.html's
// sanitizer drops a script whose text holds one, and the button would copy nothing.
if (!window.__studioCopyLink) {
  window.__studioCopyLink = true;
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest(".sp-copy") : null;
    const code = button && button.parentElement.querySelector("code");
    if (!code) return;
    const text = code.textContent;
    const done = () => {
      button.classList.add("sp-copied");
      setTimeout(() => button.classList.remove("sp-copied"), 1500);
    };
    const byCommand = () => {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.append(area);
      area.select();
      try {
        if (document.execCommand("copy")) done();
      } finally {
        area.remove();
      }
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, byCommand);
    else byCommand();
  });
}
