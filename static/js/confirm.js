/*
 * Forms with a data-confirm question ask it before they are sent; the form is
 * sent only if the person agrees. Without script the form is sent at once.
 */
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}
