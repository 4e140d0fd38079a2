// "This helped me": toggles the vote without reloading the page. The form still works without
// JavaScript (it posts and comes back to #helpful).

function peopleCount(count) {
  return `${count} ${count === 1 ? "person" : "people"}`;
}

function setUpHelpfulForm(form) {
  const button = form.querySelector("[data-helpful-button]");
  const count = form.querySelector("[data-helpful-count]");
  const you = form.querySelector("[data-helpful-you]");
  const token = form.querySelector("input[name=csrfmiddlewaretoken]");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": token ? token.value : "" },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const result = await response.json();
      button.setAttribute("aria-pressed", result.voted ? "true" : "false");
      if (count) count.textContent = peopleCount(result.count);
      if (you) you.textContent = result.voted ? ", including you" : "";
    } catch (error) {
      form.submit(); // fall back to the plain form post
    } finally {
      button.disabled = false;
    }
  });
}

document.querySelectorAll("[data-helpful-form]").forEach(setUpHelpfulForm);
