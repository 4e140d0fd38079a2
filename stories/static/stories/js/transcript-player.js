// Story clip player: a transcript line plays the clip from its moment, the line being spoken is
// highlighted, and a story link with ?t=83 starts the clip at 83 s (set once metadata is loaded).
// Without JavaScript the lines are plain ?t= links and the media URL carries a #t= fragment.

const toSeconds = (value) => {
  const seconds = Number.parseFloat(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
};

function whenMetadataLoaded(media, callback) {
  if (media.readyState >= HTMLMediaElement.HAVE_METADATA) {
    callback();
  } else {
    media.addEventListener("loadedmetadata", callback, { once: true });
  }
}

function playQuietly(media) {
  const playing = media.play();
  if (playing && typeof playing.catch === "function") {
    playing.catch(() => {}); // autoplay refused: the reader presses play, from the right moment
  }
}

function setUpPlayer(container) {
  const media = container.querySelector("audio, video");
  if (!media) return;
  const list = container.querySelector("[data-transcript]");
  const lines = list ? Array.from(list.querySelectorAll("li[data-start]")) : [];
  const cues = lines.map((line, index) => {
    const start = toSeconds(line.dataset.start) ?? 0;
    const nextStart = index + 1 < lines.length ? toSeconds(lines[index + 1].dataset.start) : null;
    const end = toSeconds(line.dataset.end) ?? nextStart ?? Number.POSITIVE_INFINITY;
    return { line, link: line.querySelector("a"), start, end };
  });
  let current = null;

  const startTime = toSeconds(media.dataset.startTime);
  if (startTime !== null) {
    media.dataset.startPending = "true";
    whenMetadataLoaded(media, () => {
      const limit = Number.isFinite(media.duration) ? media.duration : startTime;
      media.currentTime = Math.min(startTime, limit);
      delete media.dataset.startPending;
      highlight();
    });
  }

  function cueAt(time) {
    let found = null;
    for (const cue of cues) {
      if (cue.start <= time + 0.05) found = cue;
      else break;
    }
    return found && time < found.end ? found : null;
  }

  function keepInView(line) {
    if (!list || list.scrollHeight <= list.clientHeight) return;
    const top = line.offsetTop - list.offsetTop;
    if (top < list.scrollTop || top + line.offsetHeight > list.scrollTop + list.clientHeight) {
      list.scrollTop = Math.max(0, top - list.clientHeight / 3);
    }
  }

  function highlight() {
    const cue = cueAt(media.currentTime);
    if (cue === current) return;
    if (current) {
      current.line.classList.remove("is-current");
      current.link?.removeAttribute("aria-current");
    }
    current = cue;
    if (cue) {
      cue.line.classList.add("is-current");
      cue.link?.setAttribute("aria-current", "true");
      if (!media.paused) keepInView(cue.line);
    }
  }

  list?.addEventListener("click", (event) => {
    const link = event.target.closest("li[data-start] a");
    if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.button > 0) return;
    event.preventDefault();
    const seconds = toSeconds(link.closest("li").dataset.start) ?? 0;
    whenMetadataLoaded(media, () => {
      media.currentTime = seconds;
      highlight();
    });
    if (media.readyState < HTMLMediaElement.HAVE_METADATA) media.load();
    playQuietly(media);
    const url = new URL(window.location.href);
    url.searchParams.set("t", String(Math.floor(seconds)));
    window.history.replaceState(window.history.state, "", url);
  });

  media.addEventListener("timeupdate", highlight);
  media.addEventListener("seeked", highlight);
  container.dataset.playerReady = "true";
}

document.querySelectorAll("[data-transcript-player]").forEach(setUpPlayer);
