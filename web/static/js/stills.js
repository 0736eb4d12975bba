// Stills: freeze the frame on screen as an encrypted JPEG on the kit, with a caption the
// parent may see in the shared review. The pictures shown here are decrypted on the fly.

import { now, player, seek } from "./player.js";
import { el, timeText } from "./common.js";
import { act, change, onNotes, recordingId, update } from "./notes.js";
import { removeButton } from "./undo.js";

const $ = (selector) => document.querySelector(selector);

function drawList(doc) {
  const list = $("[data-still-list]");
  if (!list) return;
  const downloads = $("[data-film]")?.dataset.downloads === "yes";
  const ids = doc.stills.map((s) => s.id).join(",");
  // someone typing a caption keeps their words (and focus) while the same stills show
  if (list.dataset.ids === ids && list.contains(document.activeElement)) return;
  list.dataset.ids = ids;
  list.replaceChildren(
    ...doc.stills.map((still) => {
      const at = timeText(still.t, { fraction: true });
      const caption = el("input", {
        type: "text",
        id: `caption-${still.id}`,
        maxlength: "300",
        "data-caption-for": still.id,
        autocomplete: "off",
      });
      caption.value = still.caption;
      return el(
        "li",
        { class: "still" },
        el(
          "button",
          { type: "button", class: "still-picture", "data-still-t": String(still.t), "aria-label": `Go to ${at}` },
          el("img", {
            src: `/recordings/${recordingId()}/stills/${still.id}.jpg`,
            alt: still.caption ? `Still at ${at}: ${still.caption}` : `Still at ${at}`,
            width: "160",
            height: "90",
          }),
        ),
        el("label", { for: `caption-${still.id}`, text: `Caption for the still at ${at}` }),
        caption,
        el(
          "div",
          { class: "item-actions" },
          downloads
            ? el("a", {
                class: "button-link",
                href: `/recordings/${recordingId()}/stills/${still.id}/download`,
                text: "Download",
                "aria-label": `Download the still at ${at}`,
              })
            : null,
          removeButton("stills", still.id, { label: `the still at ${at}` }),
        ),
      );
    }),
  );
  $("[data-stills-empty]")?.toggleAttribute("hidden", doc.stills.length > 0);
}

export function stills() {
  const freeze = $("[data-freeze]");
  if (!freeze) return;
  freeze.addEventListener("click", async () => {
    const caption = $("[data-still-caption]");
    player()?.pause();
    freeze.disabled = true;
    try {
      await act(
        `/recordings/${recordingId()}/stills`,
        { t: Math.round(now() * 1000) / 1000, caption: caption.value.trim() },
        "Keeping this frame as a still…",
      );
      caption.value = "";
    } catch {
      // act() has said why
    } finally {
      freeze.disabled = false;
    }
  });
  const list = $("[data-still-list]");
  list.addEventListener("click", (event) => {
    const picture = event.target.closest("[data-still-t]");
    if (picture) seek(Number(picture.dataset.stillT));
  });
  list.addEventListener("change", async (event) => {
    const input = event.target.closest("[data-caption-for]");
    if (!input) return;
    try {
      await change([update("stills", input.dataset.captionFor, { caption: input.value.trim() })]);
    } catch {
      // said
    }
  });
  onNotes(drawList);
}
