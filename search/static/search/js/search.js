// Search page enhancements: title/person autocomplete (ARIA combobox), and filters and sort
// that apply as soon as they change. Without JavaScript the form works with its buttons.

import { Combobox } from "../../stories/js/combobox.js";

const DEBOUNCE_MS = 150;

function fillSuggestion(option, suggestion) {
  const label = document.createElement("span");
  label.textContent = suggestion.label;
  const kind = document.createElement("span");
  kind.className = "search-suggestions__kind";
  kind.textContent = suggestion.kind === "person" ? "Person" : "Story";
  option.append(label, kind);
}

function setUpAutocomplete(container) {
  const input = container.querySelector('input[role="combobox"]');
  const list = container.querySelector('[role="listbox"]');
  const url = container.dataset.suggestUrl;
  const combobox = new Combobox(input, list, {
    onPick: (suggestion) => window.location.assign(suggestion.url),
    idPrefix: "search-suggestion",
    blurDelayMs: 100,
  });
  let timer = null;
  let controller = null;

  async function fetchSuggestions() {
    const text = input.value.trim();
    if (text.length < 2) {
      combobox.close();
      return;
    }
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const response = await fetch(`${url}?q=${encodeURIComponent(text)}`, {
        signal: controller.signal,
        headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      const body = await response.json();
      if (input.value.trim() === text) combobox.show(body.suggestions || [], fillSuggestion);
    } catch (error) {
      if (error.name !== "AbortError") combobox.close();
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, DEBOUNCE_MS);
  });
}

function setUpInstantFilters(form) {
  // Facet boxes and the sort menu sit outside the form element (form="…"): form.elements has them.
  const submit = () => (form.requestSubmit ? form.requestSubmit() : form.submit());
  Array.from(form.elements)
    .filter((field) => field.matches("[data-facet-input], [data-sort-input]"))
    .forEach((field) => field.addEventListener("change", submit));
  document.body.classList.add("search-enhanced");
}

document.querySelectorAll("[data-autocomplete]").forEach(setUpAutocomplete);
document.querySelectorAll("[data-search-form]").forEach(setUpInstantFilters);
