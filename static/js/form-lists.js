// Repeated sub-forms (templates/jobs/_macros.html field_list) edited in the page: add, remove
// and move entries without a round trip. Without scripts the same buttons post `list_edit`
// and the server redraws the form. Entries are renumbered 0, 1, 2 … after each change, as
// the server does, so the posted names stay consecutive.
(() => {
  const ATTRIBUTES = ["name", "id", "for", "data-entry", "data-list", "aria-describedby"];

  const rename = (root, from, to) => {
    const swap = (value) => (value === from || value.startsWith(from + "-") ? to + value.slice(from.length) : value);
    [root, ...root.querySelectorAll("*")].forEach((element) => {
      ATTRIBUTES.forEach((attribute) => {
        const value = element.getAttribute(attribute);
        if (value !== null) element.setAttribute(attribute, swap(value));
      });
      if (element.name === "list_edit") {
        const [action, target] = element.value.split(":");
        element.value = `${action}:${swap(target)}`;
      }
    });
  };

  const entriesOf = (list) => [...list.children].filter((child) => child.matches(".field-list-entry"));

  const renumber = (list) => {
    const name = list.dataset.list;
    const entries = entriesOf(list);
    // Through temporary names first, so no two entries share a name while renaming.
    entries.forEach((entry, index) => rename(entry, entry.dataset.entry, `${name}-tmp${index}`));
    entries.forEach((entry, index) => rename(entry, entry.dataset.entry, `${name}-${index}`));
  };

  const blank = (entry) => {
    entry.querySelectorAll(".field-list").forEach((inner) => {
      entriesOf(inner).slice(1).forEach((extra) => extra.remove());
    });
    entry.querySelectorAll("input:not([type=hidden]):not([type=checkbox]), textarea").forEach((input) => {
      input.value = "";
    });
    entry.querySelectorAll("select").forEach((select) => {
      select.selectedIndex = 0;
    });
    entry.querySelectorAll(".is-invalid").forEach((input) => input.classList.remove("is-invalid"));
    entry.querySelectorAll(".invalid-feedback").forEach((message) => message.remove());
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[name=list_edit]");
    if (!button) return;
    const action = button.dataset.listAction;
    const list = button.closest(".field-list");
    const entry = button.closest(".field-list-entry");
    const entries = entriesOf(list);
    if (action === "add") {
      if (!entries.length) return; // nothing to copy: let the server add one
      const copy = entries[entries.length - 1].cloneNode(true);
      blank(copy);
      button.before(copy);
    } else if (action === "remove") {
      if (entries.length < 2) return; // the last one: the server answers with a blank entry
      entry.remove();
    } else if (action === "up" && entry.previousElementSibling?.matches(".field-list-entry")) {
      entry.previousElementSibling.before(entry);
    } else if (action === "down" && entry.nextElementSibling?.matches(".field-list-entry")) {
      entry.nextElementSibling.after(entry);
    }
    event.preventDefault();
    renumber(list);
  });
})();
