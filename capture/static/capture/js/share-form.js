// When the share form comes back with errors, move keyboard focus to the summary at the top so
// the list of what to fix is read first; each item links to its field.

const summary = document.querySelector("#form-errors, #rate-limit-notice");
if (summary) {
  summary.setAttribute("tabindex", "-1");
  summary.focus();
}
