/*
 * Switching the language of a form page keeps what was typed. The language links reload
 * the page (with its query) in the other language; just before, the page's forms that send
 * with POST are written to sessionStorage, and the page in the new language fills them in
 * again and forgets the copy. Passwords, files and the forms' hidden fields (the CSRF
 * token among them) are never kept.
 */
const KEY = "hybriddesk.language-switch.form";
const SKIPPED_TYPES = new Set(["password", "file", "hidden", "submit", "button", "reset"]);

function postForms() {
  return [...document.querySelectorAll("form")].filter(
    (form) => form.method.toLowerCase() === "post",
  );
}

function keptFields(form) {
  return [...form.elements].filter(
    (field) => field.name && !SKIPPED_TYPES.has(field.type) && !field.disabled,
  );
}

function save() {
  const forms = postForms().map((form) =>
    keptFields(form).map((field) =>
      field.type === "checkbox" || field.type === "radio"
        ? [field.name, field.value, field.checked]
        : field.multiple
          ? [field.name, [...field.selectedOptions].map((option) => option.value)]
          : [field.name, field.value],
    ),
  );
  sessionStorage.setItem(KEY, JSON.stringify({ path: location.pathname, forms }));
}

function restore() {
  const saved = sessionStorage.getItem(KEY);
  if (saved === null) return;
  sessionStorage.removeItem(KEY);
  let copy;
  try {
    copy = JSON.parse(saved);
  } catch {
    return;
  }
  if (copy.path !== location.pathname) return;
  // The page in the new language has the same fields in the same order: only labels change.
  postForms().forEach((form, index) => {
    const values = copy.forms[index] || [];
    keptFields(form).forEach((field, position) => {
      const [name, value, checked] = values[position] || [];
      if (name !== field.name) return;
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.value === value) field.checked = checked;
      } else if (field.multiple) {
        for (const option of field.options) option.selected = value.includes(option.value);
      } else {
        field.value = value;
      }
    });
  });
}

restore();
for (const link of document.querySelectorAll("a[data-language-link]")) {
  link.addEventListener("click", save);
}
