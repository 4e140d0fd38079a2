// The keyboard and ARIA half of an autocomplete box (WAI-ARIA combobox with a listbox popup), shared
// by the search box and the people picker. Callers fetch suggestions and fill each option; this
// module opens and closes the list, moves the highlight (ArrowUp/ArrowDown), picks (Enter or a
// click) and closes on Escape or when the box loses focus.

export class Combobox {
  /**
   * @param {HTMLInputElement} input the text box, already marked role="combobox"
   * @param {HTMLElement} listbox its popup (role="listbox"), hidden while closed
   * @param {{onPick: (item: any) => void, idPrefix?: string, blurDelayMs: number}} settings
   *   onPick gets the chosen item; options are given the ids `${idPrefix}-0`, `${idPrefix}-1`…;
   *   blurDelayMs leaves a click on an option time to land before the list closes.
   */
  constructor(input, listbox, { onPick, idPrefix = listbox.id, blurDelayMs }) {
    this.input = input;
    this.listbox = listbox;
    this.onPick = onPick;
    this.idPrefix = idPrefix;
    this.items = [];
    this.options = [];
    this.active = -1;
    input.addEventListener("keydown", (event) => this.#onKeydown(event));
    input.addEventListener("blur", () => window.setTimeout(() => this.close(), blurDelayMs));
  }

  close() {
    this.listbox.hidden = true;
    this.listbox.replaceChildren();
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.items = [];
    this.options = [];
    this.active = -1;
  }

  /** Show one option per item, filled in by `fillOption(option, item)`; no items closes the list. */
  show(items, fillOption) {
    this.listbox.replaceChildren();
    this.items = items;
    this.options = items.map((item, index) => {
      const option = document.createElement("li");
      option.id = `${this.idPrefix}-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      fillOption(option, item);
      option.addEventListener("mousedown", (event) => {
        event.preventDefault(); // keep focus in the input
        this.onPick(item);
      });
      this.listbox.append(option);
      return option;
    });
    if (!this.options.length) {
      this.close();
      return;
    }
    this.listbox.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.active = -1;
  }

  highlight(index) {
    this.active = index;
    this.options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) {
      this.input.setAttribute("aria-activedescendant", this.options[index].id);
      this.options[index].scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  }

  #onKeydown(event) {
    const count = this.options.length;
    if (this.listbox.hidden || !count) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      this.highlight((this.active + 1) % count);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      this.highlight(this.active <= 0 ? count - 1 : this.active - 1);
    } else if (event.key === "Enter" && this.active >= 0) {
      event.preventDefault(); // pick, don't submit the form
      this.onPick(this.items[this.active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      this.close();
    }
  }
}
