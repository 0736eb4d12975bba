// VIG Kit phone page: live status once a second (paused while hidden), the preview,
// and Record/Stop without a page reload. Without JavaScript the forms still work.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const statusBox = document.querySelector("[data-status]");
const preview = document.querySelector("[data-preview]");
const recordForm = document.querySelector("[data-record]");

function clockText(seconds) {
  const total = Math.floor(seconds ?? 0);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function show(status) {
  if (!statusBox) return;
  statusBox.dataset.state = status.state;
  const set = (sel, text) => {
    const el = statusBox.querySelector(sel);
    if (el) el.textContent = text;
  };
  set("[data-words]", status.words);
  set("[data-elapsed]", clockText(status.elapsed_s));
  set("[data-minutes]", String(status.minutes_left));
  const warning = statusBox.querySelector("[data-warning]");
  if (warning) {
    warning.textContent = status.warning ?? "";
    warning.hidden = !status.warning;
  }
  if (recordForm) {
    const recording = status.state === "recording";
    const button = recordForm.querySelector("[data-record-button]");
    recordForm.querySelector('input[name="action"]').value = recording ? "stop" : "start";
    button.textContent = recording ? "Stop" : "Record";
    button.className = `record ${recording ? "stop" : "start"}`;
  }
}

async function poll() {
  if (document.hidden) return;
  try {
    const response = await fetch("/status", { headers: { Accept: "application/json" } });
    if (response.ok) show(await response.json());
  } catch {
    // the kit may be restarting; the next poll tries again
  }
  if (preview) {
    const next = new Image();
    next.onload = () => { preview.src = next.src; };
    next.src = `/preview.jpg?t=${Date.now()}`;
  }
}

if (recordForm) {
  recordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch(recordForm.action, {
      method: "POST",
      body: new FormData(recordForm),
      headers: { Accept: "application/json", "X-CSRF-Token": csrf },
    });
    const body = await response.json();
    if (response.ok) {
      show(body);
    } else if (response.status === 401) {
      window.location.assign("/unlock");
    } else {
      const warning = statusBox?.querySelector("[data-warning]");
      if (warning) {
        warning.textContent = `${body.error} ${body.hint}`;
        warning.hidden = false;
      }
    }
  });
}

if (statusBox) {
  setInterval(poll, 1000);
  document.addEventListener("visibilitychange", poll);
}
