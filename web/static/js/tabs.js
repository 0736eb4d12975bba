// The film page's sections as tabs a thumb can reach: without JavaScript every section
// shows, one after another; with it, one at a time. The tab chosen is kept in the URL's
// #fragment, so a reload (or Back) opens the same one.

export function tabs() {
  const bar = document.querySelector("[data-tabs]");
  if (!bar) return;
  const buttons = [...bar.querySelectorAll('[role="tab"]')];
  const panels = buttons.map((b) => document.getElementById(b.getAttribute("aria-controls")));

  function open(index, { focus = false } = {}) {
    buttons.forEach((button, i) => {
      const chosen = i === index;
      button.setAttribute("aria-selected", String(chosen));
      button.tabIndex = chosen ? 0 : -1;
      panels[i].hidden = !chosen;
    });
    if (focus) buttons[index].focus();
    document.body.dataset.tool = panels[index].id; // the player stays in view for clips
    history.replaceState(null, "", `#${panels[index].id}`);
  }

  bar.addEventListener("click", (event) => {
    const button = event.target.closest('[role="tab"]');
    if (button) open(buttons.indexOf(button));
  });
  bar.addEventListener("keydown", (event) => {
    const at = buttons.indexOf(document.activeElement);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (at < 0 || !step) return;
    event.preventDefault();
    open((at + step + buttons.length) % buttons.length, { focus: true });
  });
  bar.hidden = false;
  for (const panel of panels) panel.querySelector("h2")?.classList.add("visually-hidden");
  const wanted = panels.findIndex((p) => `#${p.id}` === window.location.hash);
  open(wanted >= 0 ? wanted : 0);
}
