// The film player: a plain <video> over the kit's virtual progressive MP4 (moov first:
// true duration, instant seeking through HTTP ranges in every engine). Other film tools
// (marks, clips, stills) import seek() and onTime() from here rather than touching the
// element themselves.

export function player() {
  return document.querySelector("[data-player]");
}

export function seek(seconds, { play = false } = {}) {
  const video = player();
  if (!video) return;
  const end = Number.isFinite(video.duration) ? video.duration : seconds;
  video.currentTime = Math.max(0, Math.min(seconds, end));
  if (play) video.play().catch(() => {}); // a phone may refuse until the first tap
}

export function onTime(callback) {
  player()?.addEventListener("timeupdate", () => callback(player().currentTime));
}

export function now() {
  return player()?.currentTime ?? 0;
}

// The film's frame rate (the kit reads it from the film) and the frame grid: a time on
// the grid shows exactly that frame, and the kit cuts a clip from the frame shown.
export function fps() {
  return Number(document.querySelector("[data-film]")?.dataset.fps) || 30;
}

export function duration() {
  const video = player();
  if (video && Number.isFinite(video.duration)) return video.duration;
  return Number(document.querySelector("[data-film]")?.dataset.duration) || 0;
}

export function snap(seconds) {
  const rate = fps();
  const frame = Math.round(seconds * rate);
  return Math.max(0, Math.min(frame / rate, duration()));
}

// Pause and show the frame ``frames`` away from the one on screen.
export function stepFrames(frames) {
  const video = player();
  if (!video) return;
  video.pause();
  showFrame(snap(video.currentTime) + frames / fps());
}

// Go to the frame starting at ``seconds``; a millisecond in, so a player rounding the
// time down never shows the frame before it.
export function showFrame(seconds) {
  seek(snap(seconds) + 0.001);
}
