// Keeps a clip's status page current: polls its JSON until the draft is ready or the job failed.
const POLL_MS = 1500;

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function paragraphs(text) {
  return text
    .split(/\n\s*\n/)
    .filter((p) => p.trim())
    .map((p) => `<p>${escapeHtml(p.trim())}</p>`)
    .join("");
}

function render(root, status) {
  const previous = root.dataset.state;
  root.dataset.state = status.state;
  root.querySelectorAll("[data-when]").forEach((section) => {
    section.hidden = !section.dataset.when.split(" ").includes(status.state);
  });
  const badge = root.querySelector("[data-state-label]");
  badge.textContent = status.state_label;
  badge.className = `badge clip-status__badge clip-status__badge--${status.state}`;
  const text = root.querySelector("[data-state-text]");
  if (text) {
    text.textContent =
      status.state === "queued"
        ? "Your clip is safely stored and waiting for the transcriber."
        : "Writing down what you said…";
  }
  const progress = root.querySelector("[data-progress]");
  progress.setAttribute("aria-valuenow", String(status.progress));
  root.querySelector("[data-progress-bar]").style.width = `${status.progress}%`;
  root.querySelector("[data-progress-text]").textContent = String(status.progress);
  if (status.state === "drafted") {
    const link = root.querySelector("[data-admin-link]");
    if (status.story_url) link.href = status.story_url;
    root.querySelector("[data-story-title]").textContent = status.story_title || "";
    root.querySelector("[data-transcript]").innerHTML = paragraphs(status.transcript || "");
  }
  if (status.state === "failed") {
    root.querySelector("[data-error]").textContent = status.error;
  }
  if (previous !== status.state) {
    const messages = {
      transcribing: "Transcription has started.",
      drafted: "Your draft is ready.",
      failed: "Transcription failed. You can try again.",
    };
    root.querySelector("[data-announce]").textContent = messages[status.state] || "";
  }
}

async function poll(root) {
  try {
    const response = await fetch(root.dataset.statusUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    });
    if (response.ok) {
      const status = await response.json();
      render(root, status);
      if (status.state === "drafted" || status.state === "failed") return;
    }
  } catch (error) {
    // A dropped connection is not the job failing: keep asking.
  }
  window.setTimeout(() => poll(root), POLL_MS);
}

const root = document.querySelector("[data-clip-status]");
if (root && root.dataset.state !== "drafted" && root.dataset.state !== "failed") {
  window.setTimeout(() => poll(root), POLL_MS);
}
