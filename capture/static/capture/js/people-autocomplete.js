// Search-as-you-type for "People involved": suggests colleagues from the people directory while
// the teller types a name; picking one adds a removable chip (a ticked checkbox named "people").
// Without JavaScript the box still works: typed names are matched or added for review on the server.
// Keyboard: arrows move through suggestions, Enter picks, Escape closes (ARIA combobox pattern).

import { Combobox } from "../../stories/js/combobox.js";

const MIN_CHARS = 2;
const DELAY_MS = 180;

function lastName(text) {
  const parts = text.split(/[,;]/);
  return parts[parts.length - 1].trim();
}

function withoutLastName(text) {
  const parts = text.split(/[,;]/);
  parts.pop();
  const kept = parts.map((part) => part.trim()).filter(Boolean);
  return kept.length ? `${kept.join(", ")}, ` : "";
}

function setUp(picker) {
  const input = picker.querySelector('input[name="new_people"]');
  const listbox = picker.querySelector('[role="listbox"]');
  const chosen = picker.querySelector("[data-people-chosen]");
  const announce = picker.querySelector("[data-people-announce]");
  const form = picker.closest("form");
  const url = picker.dataset.searchUrl;
  if (!input || !listbox || !chosen || !url) return;

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", listbox.id);
  input.setAttribute("autocomplete", "off");

  let timer = null;
  let latestRequest = 0;

  const chosenIds = () => new Set([...chosen.querySelectorAll('input[name="people"]')].map((box) => box.value));

  function addChip(person, checked = true) {
    const existing = chosen.querySelector(`input[name="people"][value="${CSS.escape(String(person.id))}"]`);
    if (existing) {
      existing.checked = checked || existing.checked;
      return;
    }
    const item = document.createElement("li");
    const label = document.createElement("label");
    label.className = "chip";
    const box = document.createElement("input");
    Object.assign(box, { type: "checkbox", name: "people", value: String(person.id), checked });
    box.setAttribute("data-autosave-chip", "");
    box.dataset.label = person.name;
    label.append(box, ` ${person.name}`);
    item.append(label);
    chosen.append(item);
  }

  function pick(person) {
    addChip(person);
    input.value = withoutLastName(input.value);
    combobox.close();
    announce.textContent = `Added ${person.name}. Untick a name to remove it.`;
    form?.dispatchEvent(new CustomEvent("autosave:chips-changed"));
    input.focus();
  }

  const combobox = new Combobox(input, listbox, { onPick: pick, blurDelayMs: 150 });

  function fillOption(option, person) {
    const name = document.createElement("span");
    name.className = "people-picker__name";
    name.textContent = person.name;
    option.append(name);
    const detail = [person.role, person.team].filter(Boolean).join(" · ");
    if (detail) {
      const extra = document.createElement("span");
      extra.className = "people-picker__detail";
      extra.textContent = detail;
      option.append(extra);
    }
  }

  function render(results, term) {
    const already = chosenIds();
    const matches = results.filter((person) => !already.has(String(person.id)));
    combobox.show(matches, fillOption);
    announce.textContent = matches.length
      ? `${matches.length} ${matches.length === 1 ? "match" : "matches"}; use the arrow keys to choose.`
      : `No one called “${term}” in the directory yet; they will be added for an editor to check.`;
  }

  async function search() {
    const term = lastName(input.value);
    if (term.length < MIN_CHARS) {
      combobox.close();
      return;
    }
    const request = ++latestRequest;
    try {
      const response = await fetch(`${url}?q=${encodeURIComponent(term)}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok || request !== latestRequest) return;
      const body = await response.json();
      if (request === latestRequest) render(body.results || [], term);
    } catch {
      combobox.close(); // offline or signed out: typed names still go in as text
    }
  }

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, DELAY_MS);
  });

  form?.addEventListener("autosave:restore-chips", (event) => {
    for (const chip of event.detail || []) addChip({ id: chip.value, name: chip.label }, chip.checked);
  });
}

document.querySelectorAll("[data-people-picker]").forEach(setUp);
