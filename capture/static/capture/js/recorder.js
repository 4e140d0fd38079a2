// Records clips in the browser (MediaRecorder): timer, input level, play back, redo, send.
// The upload form below it works without this script; this only enhances the page.

const AUDIO_TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];
const VIDEO_TYPES = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm", "video/mp4"];
const EXTENSIONS = { "audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "m4a", "video/webm": "webm", "video/mp4": "mp4" };

function pickMimeType(kind) {
  const candidates = kind === "video" ? VIDEO_TYPES : AUDIO_TYPES;
  return candidates.find((type) => window.MediaRecorder.isTypeSupported(type)) || "";
}

function formatTime(seconds) {
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

class ClipRecorder {
  constructor(element, page) {
    this.element = element;
    this.page = page;
    this.field = element.dataset.field;
    this.label = element.dataset.label;
    this.blob = null;
    this.timerText = element.querySelector("[data-timer]");
    this.meter = element.querySelector("[data-meter]");
    this.stateText = element.querySelector("[data-state]");
    this.media = element.querySelector("[data-media]");
    this.recordButton = element.querySelector("[data-record]");
    this.stopButton = element.querySelector("[data-stop]");
    this.redoButton = element.querySelector("[data-redo]");
    this.recordButton.addEventListener("click", () => this.start());
    this.stopButton.addEventListener("click", () => this.stop());
    this.redoButton.addEventListener("click", () => this.reset(true));
  }

  setState(text) {
    this.stateText.textContent = text;
  }

  async start() {
    this.page.stopOthers(this);
    this.reset(false);
    const kind = this.page.kind();
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: kind === "video" });
    } catch (error) {
      this.setState("No microphone" + (kind === "video" ? " or camera" : "") + " available — check the browser’s permission.");
      return;
    }
    this.stream = stream;
    const mimeType = pickMimeType(kind);
    this.recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    this.chunks = [];
    this.recorder.addEventListener("dataavailable", (event) => {
      if (event.data && event.data.size) this.chunks.push(event.data);
    });
    this.recorder.addEventListener("stop", () => this.finish());
    if (kind === "video") {
      const live = document.createElement("video");
      live.muted = true;
      live.playsInline = true;
      live.autoplay = true;
      live.srcObject = stream;
      live.setAttribute("aria-label", "Camera preview");
      this.media.replaceChildren(live);
    }
    this.watchLevel(stream);
    this.startedAt = performance.now();
    this.timer = window.setInterval(() => this.tick(), 250);
    this.recorder.start(1000);
    this.element.classList.add("is-recording");
    this.recordButton.hidden = true;
    this.stopButton.hidden = false;
    this.stopButton.focus();
    this.setState("Recording…");
  }

  tick() {
    const seconds = (performance.now() - this.startedAt) / 1000;
    this.timerText.textContent = formatTime(seconds);
    if (seconds >= this.page.maxSeconds) {
      this.setState("That is the longest a clip may be; recording stopped.");
      this.stop();
    }
  }

  watchLevel(stream) {
    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (!AudioContextClass) return;
    this.audioContext = new AudioContextClass();
    const source = this.audioContext.createMediaStreamSource(stream);
    const analyser = this.audioContext.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const draw = () => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const value of samples) sum += value * value;
      const level = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      this.meter.style.width = `${Math.round(level * 100)}%`;
      this.levelFrame = window.requestAnimationFrame(draw);
    };
    draw();
  }

  stop() {
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
    window.clearInterval(this.timer);
    window.cancelAnimationFrame(this.levelFrame);
    if (this.audioContext) this.audioContext.close();
    this.audioContext = null;
    this.meter.style.width = "0";
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.element.classList.remove("is-recording");
  }

  finish() {
    const type = (this.recorder.mimeType || this.chunks[0]?.type || "audio/webm").split(";")[0];
    this.blob = new Blob(this.chunks, { type });
    this.extension = EXTENSIONS[type] || "webm";
    const player = document.createElement(type.startsWith("video") ? "video" : "audio");
    player.controls = true;
    player.src = URL.createObjectURL(this.blob);
    player.setAttribute("aria-label", `Play back: ${this.label}`);
    this.media.replaceChildren(player);
    this.stopButton.hidden = true;
    this.recordButton.hidden = true;
    this.redoButton.hidden = false;
    this.redoButton.focus();
    this.setState(`Recorded ${this.timerText.textContent}. Play it back, or record again.`);
    this.page.update();
  }

  reset(announce) {
    this.stop();
    if (this.media.firstChild && this.media.firstChild.src) URL.revokeObjectURL(this.media.firstChild.src);
    this.media.replaceChildren();
    this.blob = null;
    this.timerText.textContent = "0:00";
    this.recordButton.hidden = false;
    this.stopButton.hidden = true;
    this.redoButton.hidden = true;
    if (announce) {
      this.setState("Not recorded yet");
      this.recordButton.focus();
    }
    this.page.update();
  }
}

class RecorderPage {
  constructor(root) {
    this.root = root;
    this.maxSeconds = Number(root.dataset.maxSeconds || 600);
    this.maxUploadMb = Number(root.dataset.maxUploadMb || 0);
    this.recorders = [...root.querySelectorAll("[data-recorder]")].map((element) => new ClipRecorder(element, this));
    this.sendButton = root.querySelector("[data-send]");
    this.sendStatus = root.querySelector("[data-send-status]");
    this.sendError = root.querySelector("[data-send-error]");
    root.querySelectorAll("[data-mode-choice]").forEach((input) => input.addEventListener("change", () => this.showMode()));
    this.sendButton.addEventListener("click", () => this.send());
    this.showMode();
  }

  mode() {
    return this.root.querySelector("[data-mode-choice]:checked").value;
  }

  kind() {
    return this.root.querySelector("[data-kind-choice]:checked").value;
  }

  activeRecorders() {
    const set = this.root.querySelector(`[data-prompt-set="${this.mode()}"]`);
    return this.recorders.filter((recorder) => set.contains(recorder.element));
  }

  showMode() {
    this.root.querySelectorAll("[data-prompt-set]").forEach((set) => {
      set.hidden = set.dataset.promptSet !== this.mode();
    });
    this.update();
  }

  stopOthers(current) {
    this.recorders.forEach((recorder) => {
      if (recorder !== current && recorder.recorder && recorder.recorder.state === "recording") recorder.stop();
    });
  }

  update() {
    const active = this.activeRecorders();
    const ready = active.filter((recorder) => recorder.blob).length;
    this.sendButton.disabled = ready < active.length;
    this.sendStatus.textContent =
      active.length > 1 ? `${ready} of ${active.length} clips recorded.` : ready ? "Ready to send." : "";
  }

  async send() {
    // The server refuses a larger clip before reading it; say so without sending it at all.
    const tooLarge = this.activeRecorders().find(
      (recorder) => this.maxUploadMb && recorder.blob.size > this.maxUploadMb * 1024 * 1024,
    );
    if (tooLarge) {
      this.showError(
        `${tooLarge.label}: this recording is larger than ${this.maxUploadMb} MB, the most we accept. ` +
          "Please record a shorter clip (or sound only).",
      );
      return;
    }
    const body = new FormData();
    body.append("mode", this.mode());
    const consent = this.root.querySelector('[data-option="consent"]');
    if (consent.checked) body.append("consent", "1");
    const visibility = this.root.querySelector('[data-option="visibility"]:checked');
    if (visibility) body.append("visibility", visibility.value);
    // A link from a colleague's question: the draft is announced as answering it.
    if (this.root.dataset.origin) body.append("origin", this.root.dataset.origin);
    this.activeRecorders().forEach((recorder) => {
      body.append(recorder.field, recorder.blob, `recording-${recorder.field}.${recorder.extension}`);
    });
    this.sendButton.disabled = true;
    this.sendError.hidden = true;
    this.sendStatus.textContent = "Sending…";
    try {
      const response = await fetch(this.root.dataset.postUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      });
      if (response.redirected && response.url.includes("/accounts/login/")) {
        this.showError("You have been signed out. Sign in again in another tab, then send: your recording is still here.");
        this.update();
        return;
      }
      const data = await response.json().catch(() => ({}));
      if (response.ok && data.status_url) {
        this.sendStatus.textContent = "Sent. Opening the progress page…";
        window.location.assign(data.status_url);
        return;
      }
      this.showError(data.error || `The server answered ${response.status}.`);
    } catch (error) {
      this.showError("The clip could not be sent (no connection?). Your recording is still here: try again.");
    }
    this.update();
  }

  showError(message) {
    this.sendError.textContent = message;
    this.sendError.hidden = false;
    this.sendStatus.textContent = "";
    this.sendError.focus?.();
  }
}

function enhanceUploadForm() {
  const form = document.querySelector("[data-upload-form]");
  if (!form) return;
  const show = () => {
    const mode = form.querySelector("[data-upload-mode]:checked").value;
    form.querySelectorAll("[data-upload-set]").forEach((set) => {
      set.hidden = set.dataset.uploadSet !== mode;
      set.querySelectorAll("input[type=file]").forEach((input) => {
        input.disabled = set.hidden;
      });
    });
  };
  form.querySelectorAll("[data-upload-mode]").forEach((input) => input.addEventListener("change", show));
  show();
}

enhanceUploadForm();
const root = document.querySelector("[data-voice-recorder]");
const supported = Boolean(window.MediaRecorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
if (root && supported) {
  root.hidden = false;
  new RecorderPage(root);
} else {
  const notice = document.querySelector("[data-recorder-unsupported]");
  if (notice) notice.hidden = false;
}
const error = document.getElementById("voice-error");
if (error) error.focus();
