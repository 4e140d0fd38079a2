// Keeps the story being typed in this browser (localStorage) so a closed tab, a crash or an
// expired session never loses it. Restored on return with a notice; cleared once the story is
// safely with the server (pages carrying data-autosave-clear="<key>").

const SAVE_DELAY_MS = 400;

function openStorage() {
  try {
    const probe = "storybank:probe";
    window.localStorage.setItem(probe, probe);
    window.localStorage.removeItem(probe);
    return window.localStorage;
  } catch {
    return null; // private mode or storage disabled: the form still works, just without autosave
  }
}

function isSkipped(element) {
  return (
    !element.name ||
    element.disabled ||
    ["file", "hidden", "submit", "button", "reset", "password"].includes(element.type) ||
    element.name === "csrfmiddlewaretoken"
  );
}

function collect(form) {
  const snapshot = { savedAt: new Date().toISOString(), values: {}, checked: {}, chips: [] };
  for (const element of form.elements) {
    if (isSkipped(element)) continue;
    if (element.hasAttribute("data-autosave-chip")) {
      snapshot.chips.push({ value: element.value, label: element.dataset.label || "", checked: element.checked });
    } else if (element.type === "checkbox" || element.type === "radio") {
      snapshot.checked[element.name] ??= [];
      if (element.checked) snapshot.checked[element.name].push(element.value);
    } else {
      snapshot.values[element.name] = element.value;
    }
  }
  return snapshot;
}

function hasWriting(snapshot) {
  return Object.values(snapshot.values).some((value) => value.trim() !== "") || snapshot.chips.length > 0;
}

function differsFromForm(snapshot, form) {
  return JSON.stringify({ ...collect(form), savedAt: "" }) !== JSON.stringify({ ...snapshot, savedAt: "" });
}

function apply(form, snapshot) {
  for (const element of form.elements) {
    if (isSkipped(element) || element.hasAttribute("data-autosave-chip")) continue;
    if (element.type === "checkbox" || element.type === "radio") {
      if (element.name in snapshot.checked) element.checked = snapshot.checked[element.name].includes(element.value);
    } else if (element.name in snapshot.values) {
      element.value = snapshot.values[element.name];
    }
  }
  // The people picker owns its chips; it listens for this and rebuilds them.
  form.dispatchEvent(new CustomEvent("autosave:restore-chips", { detail: snapshot.chips }));
}

function describeTime(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "earlier";
  return when.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

function clearFinishedStories(storage) {
  for (const marker of document.querySelectorAll("[data-autosave-clear]")) {
    if (marker.dataset.autosaveClear) storage.removeItem(marker.dataset.autosaveClear);
  }
}

function watch(form, storage) {
  const key = form.dataset.autosave;
  const status = form.querySelector("[data-autosave-status]");
  const notice = document.querySelector("[data-autosave-notice]");
  let timer = null;
  let discarding = false;

  const save = () => {
    window.clearTimeout(timer);
    if (discarding) return;
    const snapshot = collect(form);
    try {
      if (hasWriting(snapshot)) {
        storage.setItem(key, JSON.stringify(snapshot));
        if (status) status.textContent = "Saved in this browser.";
      } else {
        storage.removeItem(key);
      }
    } catch {
      if (status) status.textContent = "This browser could not keep a copy; please don’t close the tab.";
    }
  };
  const saveSoon = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, SAVE_DELAY_MS);
  };

  let stored = null;
  try {
    stored = JSON.parse(storage.getItem(key) || "null");
  } catch {
    storage.removeItem(key);
  }
  if (form.dataset.autosaveRestore === "yes" && stored && hasWriting(stored) && differsFromForm(stored, form)) {
    apply(form, stored);
    if (notice) {
      notice.querySelector("[data-autosave-notice-text]").textContent =
        `We brought back what you were writing (saved in this browser ${describeTime(stored.savedAt)}).`;
      notice.hidden = false;
      notice.querySelector("[data-autosave-discard]")?.addEventListener("click", () => {
        discarding = true;
        storage.removeItem(key);
        window.location.reload();
      });
    }
  } else if (form.dataset.autosaveRestore !== "yes") {
    save(); // the server showed the form again (errors): what it shows is the latest version
  }

  form.addEventListener("input", saveSoon);
  form.addEventListener("change", save);
  form.addEventListener("autosave:chips-changed", save);
  form.addEventListener("submit", save);
  window.addEventListener("pagehide", save);
}

const storage = openStorage();
if (storage) {
  clearFinishedStories(storage);
  for (const form of document.querySelectorAll("form[data-autosave]")) watch(form, storage);
}
