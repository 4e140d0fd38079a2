// Search page enhancements: title/person autocomplete (ARIA combobox), and filters and sort
// that apply as soon as they change. Without JavaScript the form works with its buttons.

const DEBOUNCE_MS = 150;

function setUpAutocomplete(container) {
  const input = container.querySelector('input[role="combobox"]');
  const list = container.querySelector('[role="listbox"]');
  const url = container.dataset.suggestUrl;
  let options = [];
  let active = -1;
  let timer = null;
  let controller = null;

  function close() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    options = [];
    active = -1;
  }

  function highlight(index) {
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function show(suggestions) {
    list.replaceChildren();
    options = suggestions.map((suggestion, i) => {
      const option = document.createElement("li");
      option.id = `search-suggestion-${i}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.url = suggestion.url;
      const label = document.createElement("span");
      label.textContent = suggestion.label;
      const kind = document.createElement("span");
      kind.className = "search-suggestions__kind";
      kind.textContent = suggestion.kind === "person" ? "Person" : "Story";
      option.append(label, kind);
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        window.location.assign(suggestion.url);
      });
      list.append(option);
      return option;
    });
    if (options.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } else {
      close();
    }
  }

  async function fetchSuggestions() {
    const text = input.value.trim();
    if (text.length < 2) {
      close();
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
      if (input.value.trim() === text) show(body.suggestions || []);
    } catch (error) {
      if (error.name !== "AbortError") close();
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden || !options.length) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight((active + 1) % options.length);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active <= 0 ? options.length - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      window.location.assign(options[active].dataset.url);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
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
